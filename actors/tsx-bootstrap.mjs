// Worker entry for source (.ts) runs — tests and `tsx` — never for the build.
// Node 20 does not apply `--import` loaders to worker threads, so this plain
// JS file registers tsx inside the thread, then loads the real entry named in
// workerData. Its default export forwards to the entry's (Piscina calls it).
//
// No top-level await here: Piscina first tries require() on this file, and
// Node 20's require(esm) can abort the whole process (a V8 fatal error) when
// two tasks race to require a module graph that is still evaluating.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
// If the entry fails to load, the rejection ends the thread with its error.
const entry = import(workerData.xyn_entry);

export default async function forward(...args) {
  const loaded = await entry;
  return loaded.default(...args);
}

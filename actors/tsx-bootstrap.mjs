// Worker entry for source (.ts) runs — tests and `tsx` — never for the build.
// Node 20 does not apply `--import` loaders to worker threads, so this plain
// JS file registers tsx inside the thread, then loads the real entry named in
// workerData and passes its default export on (Piscina calls it).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const entry = await import(workerData.xyn_entry);
export default entry.default;

/**
 * `xyn blueprint apply FILE` as a real process: on a data dir (the same file
 * again keeps its version; an invalid one is every issue, exit 2), refused
 * while a node holds the data dir, and through that node's --url.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../kernel/helpers.ts';
import { admiralToken, startServe, xynSync } from '../helpers/cli.ts';

const temp = tempDir();
const dir = temp.path;
afterAll(() => temp.cleanup());
const FILE = 'blueprints/workflows/nightly-health.yaml';
const BAD = join(dir, 'bad.yaml');
writeFileSync(BAD, readFileSync(FILE, 'utf8').replace('kind: transform', 'kind: teleport'));

describe('xyn blueprint apply', () => {
  const data = join(dir, 'data');

  it('on a data dir: version 1 active; the same file again stays version 1; an invalid one is its issues, exit 2', () => {
    const first = xynSync(['blueprint', 'apply', FILE, '--data', data]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`${FILE}: blueprint examples.nightly_health version 1 active\n`);
    expect(first.status).toBe(0);

    const again = xynSync(['blueprint', 'apply', FILE, '--data', data, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ file: FILE, ok: true, blueprint_id: 'examples.nightly_health', version: 1, revision: 1 });
    expect(again.status).toBe(0);

    const bad = xynSync(['blueprint', 'apply', BAD, '--data', data]);
    expect(bad.stdout).toMatch(new RegExp(`^${BAD}: plan\\[1\\]\\.kind: `));
    expect(bad.status).toBe(2);

    const missing = xynSync(['blueprint', 'apply', join(dir, 'nope.yaml'), '--data', data]);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: ENOENT/);
    expect(missing.status).toBe(2);
  });

  it('refused on a data dir a node holds, naming it; through its --url, applied there', async () => {
    const serve = await startServe(data);
    try {
      const direct = xynSync(['blueprint', 'apply', FILE, '--data', data]);
      expect(direct.stderr).toBe(`xyn: data dir ${data} is in use by pid ${serve.pid} (xyn serve on ${serve.url}): apply the blueprint through it: xyn blueprint apply FILE --url ${serve.url}\n`);
      expect(direct.status).toBe(2);

      const token = admiralToken(serve);
      const remote = xynSync(['blueprint', 'apply', FILE, '--url', serve.url, '--token', token]);
      expect(remote.stdout).toBe(`${FILE}: blueprint examples.nightly_health version 1 active\n`);
      expect(remote.status).toBe(0);
      const changed = join(dir, 'changed.yaml');
      writeFileSync(changed, readFileSync(FILE, 'utf8').replace('name: "Nightly health check"', 'name: "Nightly health check, v2"'));
      const v2 = xynSync(['blueprint', 'apply', changed, '--url', serve.url, '--token', token]);
      expect(v2.stdout).toBe(`${changed}: blueprint examples.nightly_health version 2 active\n`);
      const bad = xynSync(['blueprint', 'apply', BAD, '--url', serve.url, '--token', token]);
      expect(bad.stdout).toMatch(new RegExp(`^${BAD}: plan\\[1\\]\\.kind: `));
      expect(bad.status).toBe(2);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});

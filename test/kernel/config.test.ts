import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { loadConfig, ConfigError } from '../../src/kernel/config.ts';
import { tempDir } from './helpers.ts';

describe('config', () => {
  it('has every seed 001 default, and XYN_WORKERS defaults to the cores', () => {
    const c = loadConfig({ env: {}, cwd: '/srv' });
    expect(c).toMatchObject({
      HXO_ENABLED: true,
      HXO_DEFAULT_SLO_MS: 120_000,
      HXO_SHARD_TIMEOUT_MS: 15_000,
      HXO_MAX_CONCURRENCY: 64,
      HXO_MAX_SHARDS: 1_000_000,
      HXO_AUTOSPLIT_P95_MS: 8_000,
      HXO_AUTOSPLIT_FACTOR: 4,
      HXO_ALLOW_CAPTAIN_VIEW: true,
      HXO_EVENT_BATCH_SIZE: 100,
      HXO_EVENT_MAX_RATE: 1_000,
      HXO_AUTOTUNE_SAMPLE_RATE: 0.1,
      XYN_HOST: '127.0.0.1',
      XYN_PORT: 8000,
      XYN_AUTH: 'token',
      XYN_WORKERS: availableParallelism(),
      XYN_RUN_MAX_STEPS: 200,
      XYN_EVENTS_RETAIN_DAYS: 7,
      XYN_EVENTS_MAX_BYTES: 2 * 1024 ** 3,
      XYN_STREAM_MAX_CLIENTS: 1000,
      XYN_STREAM_MAX_SUBSCRIPTIONS: 32,
      XYN_STREAM_CACHE_BYTES: 32 * 1024 ** 2,
      dataDir: '/srv/.xyn',
      storePath: '/srv/.xyn/store',
      artifactsDir: '/srv/.xyn/artifacts',
    });
    expect(c.sources.HXO_MAX_SHARDS).toBe('default');
  });

  it('takes env over the config file over defaults, and reports the source', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'xyn.yaml');
      writeFileSync(file, 'HXO_MAX_CONCURRENCY: 8\nXYN_PORT: 9000\nHXO_ENABLED: false\n');
      const c = loadConfig({ env: { XYN_CONFIG: file, XYN_PORT: '9100', XYN_DATA_DIR: dir.path }, cwd: '/' });
      expect(c.HXO_MAX_CONCURRENCY).toBe(8);
      expect(c.XYN_PORT).toBe(9100);
      expect(c.HXO_ENABLED).toBe(false);
      expect(c.sources).toMatchObject({ HXO_MAX_CONCURRENCY: 'file', XYN_PORT: 'env', HXO_ENABLED: 'file', HXO_MAX_SHARDS: 'default' });
      expect(c.dataDir).toBe(dir.path);
    } finally {
      dir.cleanup();
    }
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ HXO_MAX_SHARDS: 'lots' }, 'HXO_MAX_SHARDS', /integer.*"lots"/],
    [{ HXO_SHARD_TIMEOUT_MS: '-5' }, 'HXO_SHARD_TIMEOUT_MS', /at least 1/],
    [{ HXO_AUTOTUNE_SAMPLE_RATE: '1.5' }, 'HXO_AUTOTUNE_SAMPLE_RATE', /between 0 and 1/],
    [{ HXO_ENABLED: 'maybe' }, 'HXO_ENABLED', /true or false/],
    [{ XYN_PORT: '70000' }, 'XYN_PORT', /at most 65535/],
    [{ XYN_AUTH: 'none' }, 'XYN_AUTH', /"token" or "open"/],
    [{ XYN_WORKERS: '0' }, 'XYN_WORKERS', /at least 1/],
    [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL', /URL/],
    [{ XYN_AUTH: 'open', XYN_HOST: '0.0.0.0' }, 'XYN_AUTH', /only when XYN_HOST is a loopback/],
    [{ XYN_CONFIG: '/nonexistent/xyn.yaml' }, 'XYN_CONFIG', /cannot read/],
    [{ XYN_EVENTS_RETAIN_DAYS: '-1' }, 'XYN_EVENTS_RETAIN_DAYS', /at least 0.*"-1"/],
    [{ XYN_EVENTS_RETAIN_DAYS: 'a week' }, 'XYN_EVENTS_RETAIN_DAYS', /integer/],
    [{ XYN_EVENTS_MAX_BYTES: '4096' }, 'XYN_EVENTS_MAX_BYTES', /0 \(no cap\) or at least 1048576.*"4096"/],
    [{ XYN_EVENTS_MAX_BYTES: '1.5e9x' }, 'XYN_EVENTS_MAX_BYTES', /integer/],
    [{ XYN_STREAM_MAX_CLIENTS: '0' }, 'XYN_STREAM_MAX_CLIENTS', /at least 1/],
    [{ XYN_STREAM_MAX_SUBSCRIPTIONS: '2000' }, 'XYN_STREAM_MAX_SUBSCRIPTIONS', /at most 1024/],
    [{ XYN_STREAM_CACHE_BYTES: '65536' }, 'XYN_STREAM_CACHE_BYTES', /at least 1048576/],
    [{ XYN_EVENT_RETENTION_DAYS: '3' }, 'XYN_EVENT_RETENTION_DAYS', /renamed to XYN_EVENTS_RETAIN_DAYS/],
  ];
  it.each(bad)('refuses %j naming %s', (env, variable, message) => {
    let error: unknown;
    try {
      loadConfig({ env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
    expect((error as Error).message).toMatch(message);
  });

  it('takes 0 as "no limit" for event retention, by age and by size', () => {
    const c = loadConfig({ env: { XYN_EVENTS_RETAIN_DAYS: '0', XYN_EVENTS_MAX_BYTES: '0' } });
    expect([c.XYN_EVENTS_RETAIN_DAYS, c.XYN_EVENTS_MAX_BYTES]).toEqual([0, 0]);
    expect(loadConfig({ env: { XYN_EVENTS_MAX_BYTES: String(1024 ** 2) } }).XYN_EVENTS_MAX_BYTES).toBe(1024 ** 2);
  });

  it('allows open auth on loopback only', () => {
    expect(loadConfig({ env: { XYN_AUTH: 'open', XYN_HOST: '127.0.0.1' } }).XYN_AUTH).toBe('open');
    expect(loadConfig({ env: { XYN_AUTH: 'open', XYN_HOST: '::1' } }).XYN_AUTH).toBe('open');
  });

  it('refuses unknown settings and non-mappings in the config file', () => {
    const dir = tempDir();
    try {
      const unknown = join(dir.path, 'a.yaml');
      writeFileSync(unknown, 'HXO_MAX_SHARD: 5\n');
      expect(() => loadConfig({ env: { XYN_CONFIG: unknown } })).toThrow(/HXO_MAX_SHARD: unknown setting/);
      const renamed = join(dir.path, 'r.yaml');
      writeFileSync(renamed, 'XYN_EVENT_RETENTION_DAYS: 3\n');
      expect(() => loadConfig({ env: { XYN_CONFIG: renamed } })).toThrow(/XYN_EVENT_RETENTION_DAYS: renamed to XYN_EVENTS_RETAIN_DAYS/);
      const list = join(dir.path, 'b.yaml');
      writeFileSync(list, '- 1\n- 2\n');
      expect(() => loadConfig({ env: { XYN_CONFIG: list } })).toThrow(/must hold a mapping/);
      const broken = join(dir.path, 'c.yaml');
      writeFileSync(broken, 'a: [1, 2\n');
      expect(() => loadConfig({ env: { XYN_CONFIG: broken } })).toThrow(/not valid YAML or JSON/);
    } finally {
      dir.cleanup();
    }
  });
});

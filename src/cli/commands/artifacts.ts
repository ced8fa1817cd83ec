/**
 * `xyn artifacts list|download`: the artifacts a running node keeps (steps'
 * logs, what actions and clients uploaded), through its API (`--url`,
 * `--token`; or XYN_URL, XYN_TOKEN). Bad input — a flag, a malformed id,
 * and whatever the node refuses (an unknown artifact) — is one line on
 * stderr and exit 2; no node at the URL is exit 1. A download streams to
 * its file (or stdout), and is checked against the artifact's sha256.
 *
 *   xyn artifacts list --run 0193… --kind log
 *   xyn artifacts download 0193… -o probe.log
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { XynError } from '../../core/errors.ts';
import { ArtifactsClient, type ArtifactInfo, type ArtifactListQuery } from '../../sdk/artifacts.ts';
import { remoteOf, type RemoteFlags } from '../api-client.ts';
import { withNodeFlags } from './plans.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KIND = /^[a-z][a-z0-9_.-]{0,63}$/;

const client = (flags: RemoteFlags): ArtifactsClient => new ArtifactsClient(remoteOf(flags));
const print = (text: string): void => void process.stdout.write(text);

function idArg(what: string): (value: string) => string {
  return (value) => {
    if (!UUID.test(value)) throw new InvalidArgumentError(`${what} is a UUID (8-4-4-4-12 lowercase hex digits), got "${value.slice(0, 40)}"`);
    return value;
  };
}

function kindArg(value: string): string {
  if (!KIND.test(value)) throw new InvalidArgumentError(`--kind is a lowercase letter, then lowercase letters, digits, _ . - (log, report, file …), got "${value.slice(0, 40)}"`);
  return value;
}

function limitArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 500) throw new InvalidArgumentError(`--limit must be a whole number from 1 to 500, got "${value.slice(0, 40)}"`);
  return Number(value);
}

/** The bytes a download gave are not the artifact's (its sha256 differs): the file is removed. */
export class DownloadCorruptError extends XynError {
  constructor(artifactId: string, expected: string, actual: string) {
    super(`artifact ${artifactId}: the bytes downloaded have sha256 ${actual}, not ${expected}; nothing was kept`, 'DOWNLOAD_CORRUPT', { artifact_id: artifactId, expected, actual });
  }
}

function table(items: ArtifactInfo[]): string {
  const rows = items.map((a) => [a.artifact_id, a.kind, a.status, String(a.byte_length ?? '-'), a.run_id ? `${a.run_id}/${a.step_id ?? ''}` : '-', a.name, a.created_at]);
  const head = ['ARTIFACT_ID', 'KIND', 'STATUS', 'BYTES', 'RUN/STEP', 'NAME', 'CREATED_AT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n';
}

type ListFlags = RemoteFlags & { run?: string; kind?: string; limit?: number; cursor?: string; json?: boolean };

export function registerArtifacts(program: Command): void {
  const artifacts = program.command('artifacts').description("a node's artifacts: steps' logs, uploads (its API: --url, --token)");

  withNodeFlags(artifacts.command('list'))
    .description('artifacts, newest first, as a table: artifact_id, kind, status, bytes, run/step, name, created_at')
    .option('--run <run_id>', "only this run's", idArg('--run'))
    .option('--kind <kind>', 'only of this kind (log, report, file …)', kindArg)
    .option('--limit <n>', 'at most this many (1..500, default 50)', limitArg)
    .option('--cursor <artifact_id>', 'the page after this artifact (the next page a list printed)', idArg('--cursor'))
    .option('--json', 'print the answer: {items, next_cursor}')
    .action(async (flags: ListFlags) => {
      const query: ArtifactListQuery = { ...(flags.run ? { run_id: flags.run } : {}), ...(flags.kind ? { kind: flags.kind } : {}), ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.cursor ? { cursor: flags.cursor } : {}) };
      const page = await client(flags).list(query);
      if (flags.json) return print(`${JSON.stringify(page, null, 2)}\n`);
      print(table(page.items));
      if (page.next_cursor) process.stderr.write(`more: xyn artifacts list --cursor ${page.next_cursor}\n`);
    });

  withNodeFlags(artifacts.command('download'))
    .argument('<artifact_id>', 'the artifact', idArg('an artifact id'))
    .description("an artifact's bytes, to a file (-o) or stdout, checked against its sha256")
    .option('-o, --output <file>', 'write them here (default: stdout)')
    .action(async (artifactId: string, flags: RemoteFlags & { output?: string }) => {
      const { body, sha256 } = await client(flags).download(artifactId);
      const hash = createHash('sha256');
      const sink = flags.output ? createWriteStream(flags.output) : new Writable({ write: (chunk: Buffer, _enc, done) => (process.stdout.write(chunk) ? done() : process.stdout.once('drain', () => done())) });
      await pipeline(
        body,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const piece of source) {
            hash.update(piece);
            yield piece;
          }
        },
        sink,
      );
      const actual = hash.digest('hex');
      if (actual !== sha256) {
        if (flags.output) await rm(flags.output, { force: true });
        throw new DownloadCorruptError(artifactId, sha256, actual);
      }
      if (flags.output) process.stderr.write(`artifact ${artifactId} → ${flags.output}\n`);
    });
}

/**
 * `xyn blueprint apply FILE [--url URL] [--token T] [--data DIR] [--json]`:
 * saves the file as a draft, validates it and promotes it — through a node's
 * API when told of one (--url, --token, XYN_URL), else on the data dir
 * directly, which a running node must not hold (refused naming it: apply
 * through its --url). Success is `FILE: blueprint ID version N active`
 * (exit 0; the definition already active keeps its version); an invalid
 * blueprint prints every issue as `FILE: PATH: MESSAGE` (exit 2).
 */
import { basename } from 'node:path';
import type { BlueprintIssue } from '../../xyn/blueprint/index.ts';
import type { BlueprintVersion, Saved, Validated } from '../../xyn/drafts/index.ts';
import { callApi, type RemoteFlags } from '../api-client.ts';
import { configFromFlags, withStore, type NodeFlags } from '../config-flags.ts';
import { isRemote } from './plans.ts';

export type ApplyFlags = NodeFlags & RemoteFlags & { json?: boolean };

/** The three steps, wherever they run. */
interface Drafts {
  save(text: string, fileName: string): Promise<Saved>;
  validate(draftId: string, revision: number): Promise<Validated>;
  promote(draftId: string, revision: number): Promise<BlueprintVersion>;
}

type Applied = { ok: true; saved: Saved; version: BlueprintVersion } | { ok: false; saved: Saved; issues: BlueprintIssue[] };

async function applyWith(drafts: Drafts, text: string, fileName: string): Promise<Applied> {
  const saved = await drafts.save(text, fileName);
  const { report } = await drafts.validate(saved.draft_id, saved.revision);
  if (!report.is_valid) return { ok: false, saved, issues: report.issues };
  return { ok: true, saved, version: await drafts.promote(saved.draft_id, saved.revision) };
}

const remoteDrafts = (flags: RemoteFlags): Drafts => ({
  save: (text, file_name) => callApi<Saved>(flags, 'POST', '/api/v1/drafts', { text, file_name }),
  validate: (id, revision) => callApi<Validated>(flags, 'POST', `/api/v1/drafts/${id}/validate`, { revision }),
  promote: (id, revision) => callApi<BlueprintVersion>(flags, 'POST', `/api/v1/drafts/${id}/promote`, { revision }),
});

/** On the data dir, holding its lock: a node that holds it is the one to apply through. */
async function applyOffline(flags: NodeFlags, text: string, fileName: string): Promise<Applied> {
  const { DataDirLockedError, withDataDirLock } = await import('../../store/index.ts');
  const { DraftBook } = await import('../../xyn/drafts/index.ts');
  const config = await configFromFlags(flags);
  const by = `cli:${process.env.USER ?? 'local'}`;
  try {
    return await withDataDirLock(config.dataDir, 'blueprint apply', () =>
      withStore(flags, (store) => {
        const book = new DraftBook(store);
        return applyWith({ save: (t, file_name) => book.save({ text: t, file_name, by }), validate: (id, revision) => book.validate(id, { revision }), promote: (id, revision) => book.promote(id, { revision, by }) }, text, fileName);
      }),
    );
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    throw new DataDirLockedError(err.path, err, `apply the blueprint through it: xyn blueprint apply FILE --url ${err.url ?? 'URL'}`);
  }
}

export async function applyBlueprint(file: string, text: string, flags: ApplyFlags): Promise<void> {
  const applied = isRemote(flags) ? await applyWith(remoteDrafts(flags), text, basename(file)) : await applyOffline(flags, text, basename(file));
  const { draft_id, revision } = applied.saved;
  if (flags.json) {
    const result = applied.ok ? { ok: true, blueprint_id: applied.version.blueprint_id, version: applied.version.version, issues: [] } : { ok: false, issues: applied.issues };
    process.stdout.write(`${JSON.stringify({ file, draft_id, revision, ...result })}\n`);
  } else if (applied.ok) {
    process.stdout.write(`${file}: blueprint ${applied.version.blueprint_id} version ${applied.version.version} active\n`);
  } else {
    printIssues(file, applied.issues);
  }
  if (!applied.ok) process.exitCode = 2;
}

export function printIssues(file: string, issues: readonly BlueprintIssue[]): void {
  for (const issue of issues) process.stdout.write(`${file}: ${issue.path}: ${issue.message}\n`);
}

/**
 * A `container.exec` step's mounts, checked to stay inside its run's
 * workspace: a container may see the directory the run owns and nothing else
 * of the host. A source is a path relative to the workspace; one that leaves
 * it — by `..`, by being absolute, or through a symlink — is refused before
 * any container is made, naming the mount.
 *
 *   await workspaceMounts([{ source: 'out', target: '/out' }], '/data/workspaces/<run>')
 *   // [{ Type: 'bind', Source: '/data/workspaces/<run>/out', Target: '/out', ReadOnly: false }]
 */
import { access, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { ActionInputError } from '../actions/errors.ts';

export interface MountSpec {
  source: string;
  target: string;
  read_only?: boolean | undefined;
}

export interface BindMount {
  Type: 'bind';
  Source: string;
  Target: string;
  ReadOnly: boolean;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The longest part of `path` that exists. */
async function existingAncestor(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    if (await exists(p)) return p;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The mounts as the engine takes them; sources that do not exist yet are made (as directories) inside the workspace. */
export async function workspaceMounts(mounts: readonly MountSpec[], workspace: string | undefined): Promise<BindMount[]> {
  if (mounts.length === 0) return [];
  if (!workspace) throw new ActionInputError('container.exec: mounts[0]: this run has no workspace to mount from; remove `mounts`', 'mounts');
  await mkdir(workspace, { recursive: true });
  const root = await realpath(workspace);
  const out: BindMount[] = [];
  for (const [i, m] of mounts.entries()) {
    const field = `mounts[${i}].source`;
    const refuse = (why: string) => new ActionInputError(`container.exec: ${field} (${JSON.stringify(m.source)}): ${why}`, field);
    if (isAbsolute(m.source)) throw refuse("must be a path relative to the run's workspace, not an absolute path");
    const wanted = resolve(root, m.source);
    if (!inside(root, wanted)) throw refuse("resolves outside the run's workspace; use a path inside it");
    if (!posix.isAbsolute(m.target)) throw new ActionInputError(`container.exec: mounts[${i}].target (${JSON.stringify(m.target)}): must be an absolute path in the container`, `mounts[${i}].target`);
    // A symlink inside the workspace may point out of it: what exists of the path is followed before anything is made under it.
    const symlinkEscape = () => refuse("leads outside the run's workspace through a symlink; mount a real directory inside it");
    if (!inside(root, await realpath(await existingAncestor(wanted)))) throw symlinkEscape();
    await mkdir(wanted, { recursive: true });
    const real = await realpath(wanted);
    if (!inside(root, real)) throw symlinkEscape();
    out.push({ Type: 'bind', Source: real, Target: m.target, ReadOnly: m.read_only ?? false });
  }
  return out;
}

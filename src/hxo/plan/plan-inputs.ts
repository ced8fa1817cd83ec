/**
 * Where a plan's stages may read files from: a stage's `config.root`, the
 * directory its partitioner lists and its executor reads (files, assets,
 * docs, packs — whose outputs and artifacts carry what they read). A plan
 * submitted over HTTP, by someone who cannot read the node's files, reads
 * only under the node's plan directory (its `baseDir`) or the directories
 * XYN_INPUT_DIRS names; symlinks are followed before the check, so a link
 * under them to a directory elsewhere is refused too. A plan run from the
 * command line reads what its user can.
 *
 *   confineInputs(plan, ['/srv/plans'], '/srv/plans')   // PlanError stages[0].config.root for root: '/etc'
 */
import { resolve } from 'node:path';
import { PlanError } from '../engine-errors.ts';
import { isUnder, real } from './plan-modules.ts';
import type { PlanInput } from './plan.ts';

/** The directories a node lets plans submitted over HTTP read: its plan directory and XYN_INPUT_DIRS. */
export function inputRoots(baseDir: string, config: { XYN_INPUT_DIRS: readonly string[] }, cwd: string): string[] {
  return [baseDir, ...config.XYN_INPUT_DIRS.map((d) => resolve(cwd, d))].map(real);
}

/** Refuses (`stages[i].config.root`) the first stage whose root is not under `dirs`. */
export function confineInputs(plan: PlanInput, dirs: readonly string[], baseDir: string): void {
  for (const [i, stage] of plan.stages.entries()) {
    const root = stage.config?.root;
    if (typeof root !== 'string') continue;
    if (isUnder(real(resolve(baseDir, root)), dirs)) continue;
    throw new PlanError(`stages[${i}].config.root`, `${JSON.stringify(root.slice(0, 200))} is outside ${dirs.join(', ')}: a plan submitted over HTTP reads files only from under the node's plan directory or XYN_INPUT_DIRS`);
  }
}

/**
 * A command's whole output kept as an artifact of its step (ssh.run,
 * container.exec). The command has run by then, so an artifact refused — past
 * XYN_ARTIFACT_MAX_BYTES, past the quota — does not fail the step: its
 * outputs stand (cut at max_output_bytes), and why the artifact is missing is
 * said in the step's log, where whoever reads the run looks, and the node's.
 */
import { XynError } from '../../core/errors.ts';
import type { ActionContext, ArtifactsPort } from './action.ts';

export async function keepOutputArtifact(ctx: ActionContext, action: string, artifact: Parameters<ArtifactsPort['put']>[0]): Promise<void> {
  if (!ctx.artifacts) return;
  try {
    await ctx.artifacts.put(artifact);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    ctx.stepLog?.write({ level: 'warn', msg: `${action}: its output was not kept as the artifact ${artifact.name}: ${reason}`, ...(err instanceof XynError ? { code: err.code } : {}) });
    ctx.log?.warn({ err, run_id: ctx.runId, step_id: ctx.stepId }, `${action}: the output artifact could not be kept`);
  }
}

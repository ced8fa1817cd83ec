/**
 * The image a `container.exec` step names, made present on the engine by its
 * pull policy: `if_missing` pulls only an image the engine lacks, `always`
 * pulls every time (a moving tag), `never` takes only what is there. A pull is
 * followed to its last progress message: the image is there only then.
 *
 *   const imageId = await presentImage(docker, 'alpine:3.20', 'if_missing', signal);  // 'sha256:…'
 */
import type Docker from 'dockerode';
import { ContainerImageUnavailableError } from './errors.ts';

export const PULL_POLICIES = ['if_missing', 'always', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** The image's id, or undefined when the engine does not have it. */
async function localImageId(docker: Docker, image: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** One line of a pull's progress stream. */
interface PullProgress {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function pull(docker: Docker, image: string, signal: AbortSignal): Promise<void> {
  try {
    const stream = await docker.pull(image, { abortSignal: signal });
    const progress = await new Promise<PullProgress[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: PullProgress[]) => (err ? reject(err) : resolve(out))));
    // A pull that fails after it began says so in a progress message, not in the HTTP status.
    const failed = progress.find((p) => p.error !== undefined || p.errorDetail !== undefined);
    if (failed) throw new Error(failed.errorDetail?.message ?? failed.error);
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ContainerImageUnavailableError(image, `the engine could not pull it: ${(err as Error).message}`);
  }
}

/** The id of `image` on the engine once the policy is applied; CONTAINER_IMAGE_UNAVAILABLE when it cannot be had. */
export async function presentImage(docker: Docker, image: string, policy: PullPolicy, signal: AbortSignal): Promise<string> {
  const local = policy === 'always' ? undefined : await localImageId(docker, image);
  if (local) return local;
  if (policy === 'never') throw new ContainerImageUnavailableError(image, 'the engine does not have it and pull is never; pull it onto the engine first, or set pull: if_missing');
  await pull(docker, image, signal);
  const pulled = await localImageId(docker, image);
  if (!pulled) throw new ContainerImageUnavailableError(image, 'the pull ended but the engine does not list the image');
  return pulled;
}

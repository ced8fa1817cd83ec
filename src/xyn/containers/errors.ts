/**
 * Why a `container.exec` step failed, one class per condition, each with a
 * stable code and retry semantics in its type: an engine that does not answer
 * may answer later; an image that cannot be had, or a memory limit passed,
 * stays so.
 */
import { NonRetryableError, XynError, registerErrorClass } from '../../core/errors.ts';

/** The Docker-compatible API did not answer at `address`. */
export class ContainerEngineUnavailableError extends XynError {
  constructor(address: string, reason: string, options?: { cause?: unknown }) {
    super(
      `container.exec: no container engine answers at ${address} (${reason}); start one there (docker, or \`podman system service\`) or set XYN_DOCKER_HOST (or DOCKER_HOST) to unix:///path/to/docker.sock or tcp://host:port`,
      'CONTAINER_ENGINE_UNAVAILABLE',
      { address, reason },
      options,
    );
  }
}

/** The image is not on the engine and could not be pulled (or `pull: never` forbade it). */
export class ContainerImageUnavailableError extends NonRetryableError {
  constructor(image: string, reason: string) {
    super(`container.exec: image ${image} is unavailable: ${reason}`, 'CONTAINER_IMAGE_UNAVAILABLE', { image, reason });
  }
}

/** The command exited non-zero and the step checks it (`check`, default true). */
export class ContainerExitError extends XynError {
  readonly exitCode: number;

  constructor(exitCode: number, stderrTail: string, hint: string) {
    super(`container.exec: the command exited with code ${exitCode}${hint}${stderrTail ? `; stderr ends: ${stderrTail}` : ''}`, 'CONTAINER_EXIT_NONZERO', { exit_code: exitCode, stderr_tail: stderrTail });
    this.exitCode = exitCode;
  }
}

/** The engine killed the container for passing its memory limit: the same limit is passed again. */
export class ContainerOomError extends NonRetryableError {
  constructor(memoryMb: number, exitCode: number) {
    super(`container.exec: the container was killed for using more than memory_mb (${memoryMb} MiB); raise memory_mb`, 'CONTAINER_OOM', { memory_mb: memoryMb, exit_code: exitCode });
  }
}

for (const cls of [ContainerEngineUnavailableError, ContainerImageUnavailableError, ContainerExitError, ContainerOomError]) registerErrorClass(cls);

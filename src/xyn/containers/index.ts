/** Containers for `container.exec`: the node's engine, an image by pull policy, workspace mounts, the output streams. */
export { ContainerEngine, DEFAULT_ENGINE_ADDRESS, engineAddress } from './engine.ts';
export { ContainerEngineUnavailableError, ContainerExitError, ContainerImageUnavailableError, ContainerOomError } from './errors.ts';
export { PULL_POLICIES, presentImage, type PullPolicy } from './image.ts';
export { workspaceMounts, type BindMount } from './mounts.ts';
export { attachStdin } from './stdin.ts';
export { CappedOutput, containerOutput } from './output.ts';

/**
 * The node's container engine: where its Docker-compatible API is
 * (XYN_DOCKER_HOST, else DOCKER_HOST, else the standard socket) and one
 * dockerode client for it, made once per node and handed to `container.exec`
 * through its ActionContext (`containers`).
 *
 *   const engine = new ContainerEngine(engineAddress(config));  // 'unix:///var/run/docker.sock'
 *   const docker = await engine.connect();                      // or CONTAINER_ENGINE_UNAVAILABLE naming the address
 */
import Docker from 'dockerode';
import type { ContainersPort } from '../actions/action.ts';
import { ContainerEngineUnavailableError } from './errors.ts';

export const DEFAULT_ENGINE_ADDRESS = 'unix:///var/run/docker.sock';

/** Where the engine is: XYN_DOCKER_HOST, else DOCKER_HOST (the variable docker's own CLI reads), else the standard socket. */
export function engineAddress(config: { XYN_DOCKER_HOST?: string | undefined; DOCKER_HOST?: string | undefined }): string {
  return config.XYN_DOCKER_HOST ?? config.DOCKER_HOST ?? DEFAULT_ENGINE_ADDRESS;
}

/** dockerode's options for `unix:///path` and `tcp://host:port` (plain HTTP, as docker's own tcp:// is); another form is said, not guessed. */
function clientOptions(address: string): Docker.DockerOptions | string {
  if (address.startsWith('unix://')) {
    const socketPath = address.slice('unix://'.length);
    return socketPath.startsWith('/') ? { socketPath } : `the socket path in ${address} is not absolute`;
  }
  if (address.startsWith('tcp://') && URL.canParse(address.replace(/^tcp:/, 'http:'))) {
    const url = new URL(address.replace(/^tcp:/, 'http:'));
    return { protocol: 'http', host: url.hostname, port: url.port || '2375' };
  }
  return 'only unix:// and tcp:// addresses are supported';
}

export class ContainerEngine implements ContainersPort {
  private client: Docker | undefined;

  constructor(readonly address: string) {}

  async connect(): Promise<Docker> {
    const options = clientOptions(this.address);
    if (typeof options === 'string') throw new ContainerEngineUnavailableError(this.address, options);
    this.client ??= new Docker(options);
    try {
      await this.client.ping();
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      throw new ContainerEngineUnavailableError(this.address, typeof e.code === 'string' ? e.code : String(e.message), { cause: err });
    }
    return this.client;
  }
}

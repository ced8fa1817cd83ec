/**
 * A command's standard input: the container's stdin attached before it
 * starts, written once it runs, then closed, so the command reads to its end
 * (`cat`, `sh -s`, `jq .`) and exits.
 *
 * Why not dockerode's attach: with `hijack` it sends its options as a JSON
 * body (or an empty chunked body), and Podman hands those bytes to the
 * command as the start of its input. A plain upgrade request with no body is
 * read the same by Docker and Podman.
 *
 *   const stdin = await attachStdin(docker, container.id);
 *   await container.start();
 *   stdin.end('{"a": 1}\n');
 */
import type Docker from 'dockerode';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/** What dockerode's modem was made with: a socket path, or a host and port. */
interface EngineEndpoint {
  socketPath?: string;
  host?: string;
  port?: string | number;
}

/** The container's stdin as a socket; a command that exits without reading it all is no error. */
export function attachStdin(docker: Docker, containerId: string): Promise<Socket> {
  const { socketPath, host, port } = docker.modem as unknown as EngineEndpoint;
  return new Promise((resolve, reject) => {
    const req = request({
      ...(socketPath ? { socketPath } : { host, port }),
      method: 'POST',
      path: `/containers/${encodeURIComponent(containerId)}/attach?stream=1&stdin=1`,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': '0' },
    });
    req.on('upgrade', (_res, socket: Socket) => {
      // EPIPE or a reset once the command has exited: what it did not read is no longer wanted.
      socket.on('error', () => undefined);
      socket.resume();
      resolve(socket);
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`the engine refused to attach stdin to container ${containerId}: HTTP ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

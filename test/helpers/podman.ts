/**
 * A real Docker-compatible API for tests: Debian's `podman system service`
 * on a unix socket in a temp dir, with its own storage (vfs: overlay does not
 * mount in every sandbox), runc and cgroupfs, and a `busybox` image made with
 * `podman import` from a rootfs holding Debian's static busybox — nothing is
 * pulled from a registry.
 *
 *   const engine = await startPodman();
 *   // engine.address: unix:///tmp/xyn-podman-…/podman.sock; engine.image: localhost/xyn-busybox:test
 *   await engine.stop();
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../kernel/helpers.ts';

const run = promisify(execFile);

export const BUSYBOX_IMAGE = 'localhost/xyn-busybox:test';
const BUSYBOX_COMMANDS = ['sh', 'echo', 'cat', 'sleep', 'ls', 'env', 'head', 'tr', 'pwd', 'mkdir', 'printf', 'yes'];

export interface TestPodman {
  /** unix:///…/podman.sock, as XYN_DOCKER_HOST takes it. */
  address: string;
  socketPath: string;
  image: string;
  stop(): Promise<void>;
}

/** Whether the API answers `GET /_ping` with OK. */
function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A tarball of a rootfs with busybox and its commands as symlinks, for `podman import`. */
function busyboxTarball(dir: string): Promise<unknown> {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'));
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const c of BUSYBOX_COMMANDS) symlinkSync('busybox', join(rootfs, 'bin', c));
  return run('tar', ['-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']);
}

export async function startPodman(): Promise<TestPodman> {
  const dir = mkdtempSync(join(tmpdir(), 'xyn-podman-'));
  const conf = join(dir, 'containers.conf');
  // This machine's podman needs no default ulimits (it may not raise them) and runc (crun is not installed).
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const flags = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', '/usr/sbin/runc'];
  const socketPath = join(dir, 'podman.sock');
  let service: ChildProcess | undefined;
  const stop = async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service?.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
    // Containers a test left, then the storage (vfs leaves no mounts, but reset says so if any remain).
    await run('podman', [...flags, 'system', 'reset', '-f'], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await busyboxTarball(dir);
    await run('podman', [...flags, 'import', join(dir, 'busybox.tar'), BUSYBOX_IMAGE], { env });
    // Run from the temp dir: conmon writes a file named `oom` into its working directory when a container passes its memory limit.
    service = spawn('podman', [...flags, 'system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: 'ignore', cwd: dir });
    await waitFor(() => pings(socketPath), 30_000, 'podman to answer /_ping');
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: `unix://${socketPath}`, socketPath, image: BUSYBOX_IMAGE, stop };
}

/**
 * Writing long output to stdout: as fast as its reader takes it (waiting for
 * 'drain' when the pipe is full, so memory stays one chunk), and ending
 * quietly when the reader stops early (`xyn outputs ID | head`: EPIPE), as
 * command-line tools do.
 */
import { once } from 'node:events';

let closed = false;
let watching = false;

/** Writes a chunk; false once stdout's reader has gone away (nothing more will be written). */
export async function writeOut(chunk: string | Uint8Array): Promise<boolean> {
  if (!watching) {
    watching = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closed = true;
      // Wakes a writer waiting for 'drain', which will not come now.
      process.stdout.emit('drain');
    });
  }
  if (closed) return false;
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  return !closed;
}

/**
 * The node's health (`/ui/health`): version, uptime, worker threads, the
 * store's size and the disk's free space, and the live supervision tree
 * (`/ui/health/_tree`, refreshed by htmx every two seconds) as
 * `GET /api/v1/actors` gives it.
 */
import { statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { page, type PageRoute, type PageRequest } from '../../api/pages.ts';
import type { ActorTree } from '../../api/routes/actors.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { view } from '../render.ts';

interface Health {
  status: string;
  version: string;
  uptime_seconds: number;
}

async function tree(req: PageRequest): Promise<ActorTree | undefined> {
  return req.principal.capabilities.has('hxo:view') ? req.api.json<ActorTree>('GET', '/api/v1/actors') : undefined;
}

export function healthPages(kernel: Kernel): PageRoute[] {
  const storeFile = join(kernel.store.path, 'data.mdb');
  return [
    page({
      method: 'GET',
      path: '/ui/health',
      capability: 'xyn:events:read',
      summary: 'the node: version, uptime, workers, store size, free disk, the supervision tree',
      async handle(req) {
        const health = await req.api.json<Health>('GET', '/api/v1/health');
        const disk = statfsSync(kernel.store.path);
        return view(req, 'health', {
          health,
          workers: kernel.config.XYN_WORKERS,
          storeBytes: statSync(storeFile, { throwIfNoEntry: false })?.size ?? 0,
          freeBytes: disk.bavail * disk.bsize,
          dataDir: kernel.config.dataDir,
          tree: await tree(req),
        });
      },
    }),
    page({
      method: 'GET',
      path: '/ui/health/_tree',
      capability: 'xyn:events:read',
      summary: 'the supervision tree (partial)',
      async handle(req) {
        return { html: renderTree(req, await tree(req)) };
      },
    }),
  ];
}

function renderTree(req: PageRequest, actors: ActorTree | undefined): string {
  return view({ ...req, htmx: true }, '_tree', { tree: actors }, { fragment: '_tree' }).html;
}

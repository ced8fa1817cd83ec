/**
 * The node's web UI (DESIGN.md §6, seed 004 §44): server-rendered pages and
 * their htmx partials under `/ui`, made from the API in process (pages.ts),
 * so a page shows and does exactly what the API would for its principal.
 *
 *   startApiServer({ ..., pages: uiPages({ kernel, engine }) })
 */
import type { ApiError } from '../api/errors.ts';
import type { PageContext, PageSet } from '../api/pages.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { HxoEngine } from '../hxo/engine.ts';
import { Assets, assetPages } from './assets.ts';
import { renderTemplate } from './render.ts';
import { eventPages } from './pages/events.ts';
import { blueprintPages } from './pages/blueprints.ts';
import { artifactPages } from './pages/artifacts.ts';
import { healthPages } from './pages/health.ts';
import { runLauncherPages } from './pages/run-launcher.ts';
import { runPages } from './pages/runs.ts';
import { planPages } from './pages/plans.ts';
import { sessionPages } from './pages/session.ts';
import { verifyPages } from './pages/verify.ts';

export interface UiDeps {
  kernel: Kernel;
  /** Absent when the node runs no plans (HXO_ENABLED=false): the plan pages then say so. */
  engine?: HxoEngine;
}

export function uiPages(deps: UiDeps): (ctx: PageContext) => PageSet {
  const assets = new Assets();
  return (ctx) => ({
    routes: [
      ...assetPages(assets),
      ...sessionPages(ctx, deps.kernel.config.XYN_AUTH === 'open'),
      ...eventPages(deps.kernel),
      // The launcher's /ui/runs/new before a run's /ui/runs/:run_id.
      ...runLauncherPages(),
      ...runPages(),
      ...blueprintPages(),
      ...artifactPages(),
      ...planPages(deps.engine),
      ...verifyPages(),
      ...healthPages(deps.kernel),
    ],
    errorPage: (err: ApiError, req) => {
      const data = { status: err.status, code: err.code, message: err.message, title: `${err.status} ${err.code.replaceAll('_', ' ')}` };
      return renderTemplate(req.htmx ? '_error' : 'error', data, { principal: req.principal, csrf: req.csrf, path: req.path });
    },
  });
}

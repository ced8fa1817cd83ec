/**
 * The baseline for the API benchmark: the same routes (the same Router and
 * handlers, the same auth) served by node:http instead of uWebSockets.js —
 * so the comparison is the server, not the work behind it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Principal } from '../../src/api/auth.ts';
import { ApiError, errorBody, toApiError } from '../../src/api/errors.ts';
import type { Method, Router } from '../../src/api/router.ts';
import { routeInput } from '../../src/api/validate.ts';

export async function startNodeHttp(router: Router, authenticate: (authorization: string) => Principal | ApiError): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const correlationId = 'bench';
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-correlation-id': correlationId });
      res.end(JSON.stringify(body));
    };
    (async () => {
      const match = router.match(req.method ?? 'GET', url.pathname.split('/').slice(1).map(decodeURIComponent));
      if (!match || 'allowed' in match) throw new ApiError(404, 'not_found', 'no route');
      const principal = authenticate(req.headers.authorization ?? '');
      if (principal instanceof ApiError) throw principal;
      const input = routeInput(match.route, url.searchParams, undefined);
      const result = await match.route.handle({ method: match.route.method as Method, path: url.pathname, params: match.params, ...input, principal, correlationId, accept: req.headers.accept ?? '', contentType: req.headers['content-type'] ?? '', range: req.headers.range ?? '' });
      // The benchmark compares JSON answers; streamed and byte answers are the uWS server's.
      if (!('body' in result)) throw new ApiError(406, 'not_acceptable', 'this baseline serves JSON answers only');
      answer(result.status ?? 200, result.body);
    })().catch((err: unknown) => {
      const api = toApiError(err);
      answer(api.status, errorBody(api, correlationId));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

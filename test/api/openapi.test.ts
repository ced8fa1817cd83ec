/**
 * The OpenAPI document a real node serves, held to the node's own route
 * table so that it cannot drift: every route in it with its method, path,
 * capability, path ids and schemas, and nothing the node does not serve;
 * every `$ref` resolving and every JSON Schema well-formed; and what it says
 * of requests and errors agreeing with what the node does with them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/api/auth.ts';
import type { ApiRequest, BytesResponse, Route } from '../../src/api/router.ts';
import { STREAM_PATH } from '../../src/api/stream-limits.ts';
import { computeHashPlan } from '../hxo/helpers.ts';
import { startApi, type Answer, type TestApi } from './helpers.ts';
import { resolve, schemaProblems, violations, walk } from './openapi-checks.ts';
import { bearer, connect } from './stream-client.ts';

const OPENAPI = '/api/v1/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema: Record<string, unknown>;
  example?: string;
}
interface Operation {
  operationId: string;
  summary: string;
  'x-capability': string;
  security: Record<string, string[]>[];
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required: boolean; content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
  'x-websocket'?: { client_frames: unknown; close_codes: Record<string, string> };
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

let api: TestApi;
let doc: Document;
beforeAll(async () => {
  api = await startApi({}, { runs: true });
  // Fetched as any client would: no token (it is public, as health is).
  const res = await fetch(api.url + OPENAPI);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  doc = (await res.json()) as Document;
});
afterAll(async () => {
  await api?.close();
});

/** Written independently of the code: `:name` → `{name}`. */
const templated = (path: string) => path.replace(/:([a-z_0-9]+)/gi, '{$1}');
const operations = (): [string, string, Operation][] => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([m, op]) => [m, path, op] as [string, string, Operation]));
const opOf = (route: Route): Operation => doc.paths[templated(route.path)]?.[route.method.toLowerCase()] as Operation;
const parametersOf = (op: Operation): Parameter[] => (op.parameters ?? []).filter((p): p is Parameter => !('$ref' in p));

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1.0 for xyn at the version of package.json, and made once: the same bytes for every request', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('xyn');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
    const route = api.server.routes.find((r) => r.path === OPENAPI) as Route;
    expect(route.capability).toBe('public');
    const first = (await route.handle({} as ApiRequest)) as BytesResponse;
    const second = (await route.handle({} as ApiRequest)) as BytesResponse;
    expect(second.bytes).toBe(first.bytes);
    // With a token too, and HEAD: the same document.
    const withToken = await api.call('GET', OPENAPI);
    expect(withToken.body).toEqual(doc);
    expect((await fetch(api.url + OPENAPI, { method: 'HEAD' })).headers.get('content-length')).toBe(String(first.bytes.byteLength));
  });

  it('has every route of the table with its method and path, and nothing else but the stream', () => {
    const served = api.server.routes.map((r) => `${r.method} ${templated(r.path)}`);
    const documented = operations().map(([method, path]) => `${method.toUpperCase()} ${path}`);
    expect(documented.sort()).toEqual([...served, `GET ${STREAM_PATH}`].sort());
    for (const item of Object.values(doc.paths)) for (const key of Object.keys(item)) expect(METHODS).toContain(key);
    expect(api.server.routes.length).toBeGreaterThan(15);
  });

  it("says each route's summary and capability; public routes need no token, the others a bearer token", () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ids = operations().map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of api.server.routes) {
      const op = opOf(route);
      const what = `${route.method} ${route.path}`;
      expect(op.summary, what).toBe(route.summary);
      expect(op['x-capability'], what).toBe(route.capability);
      expect(op.security, what).toEqual(route.capability === 'public' ? [] : [{ bearer: [] }]);
      if (route.capability !== 'public') expect(Object.keys(op.responses), what).toEqual(expect.arrayContaining(['401', '403']));
    }
    expect(opOf(api.server.routes.find((r) => r.path === '/api/v1/health') as Route).security).toEqual([]);
  });

  it('names each path id once, with the pattern the node checks it by and an example of that shape', () => {
    for (const route of api.server.routes) {
      const op = opOf(route);
      const inPath = [...templated(route.path).matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      const declared = parametersOf(op).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), route.path).toEqual([...inPath].sort());
      for (const p of declared) {
        const shape = route.params?.[p.name];
        expect(p.required).toBe(true);
        expect(p.schema.pattern).toBe(shape?.pattern.source);
        expect(p.description).toBe(shape?.expected);
        expect(new RegExp(p.schema.pattern as string, 'u').test(p.example as string), `${route.path} ${p.name}`).toBe(true);
      }
    }
  });

  it('gives every POST a JSON body schema, and the bodies the routes read what they take', () => {
    const posts = api.server.routes.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(5);
    for (const route of posts) {
      const body = opOf(route).requestBody;
      expect(body?.required, route.path).toBe(true);
      expect(body?.content['application/json']?.schema, route.path).toBeTypeOf('object');
    }
    const schemaOf = (path: string) => opOf(posts.find((r) => r.path === path) as Route).requestBody?.content['application/json']?.schema as Record<string, unknown>;
    expect(schemaOf('/api/hxo/create-and-submit')).toMatchObject({ type: 'object', required: ['name', 'stages'], additionalProperties: false });
    expect(schemaOf('/api/v1/events')).toMatchObject({ type: 'object', required: ['event_name'] });
    expect(schemaOf('/api/v1/tokens')).toMatchObject({ properties: { role: { enum: [...ROLES] } }, required: ['role'] });
    expect(schemaOf('/api/hxo/resume/:id')).toMatchObject({ type: 'object', additionalProperties: false });
    expect(schemaOf('/api/hxo/replay/:id').anyOf).toHaveLength(3);
  });

  it('lists the query fields each listing takes, as the README does', () => {
    const names = (path: string) => parametersOf(doc.paths[path]?.get as Operation).filter((p) => p.in === 'query').map((p) => p.name).sort();
    expect(names('/api/v1/events')).toEqual(['correlation_id', 'cursor', 'event_name', 'limit', 'order', 'pattern', 'run_id', 'since']);
    expect(names('/api/genesis/events')).toEqual(['cursor', 'fields', 'limit', 'since', 'topic']);
    expect(names('/api/hxo/plans')).toEqual(['cursor', 'limit']);
    expect(names('/api/hxo/plans/{id}/shards')).toEqual(['cursor', 'limit', 'phase']);
    expect(names('/api/hxo/outputs/{id}')).toEqual(['cursor', 'limit', 'stage']);
    expect(names('/api/v1/footprints')).toEqual(['blueprint', 'cursor', 'limit', 'metric', 'since']);
    const limit = parametersOf(doc.paths['/api/hxo/plans']?.get as Operation).find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } });
  });

  it('answers every operation with a described success, and every refusal in the error shape', () => {
    for (const [method, path, op] of operations()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^(2\d\d|101)$/.test(s)), `${method} ${path}`).toBe(true);
      for (const [status, answer] of Object.entries(op.responses)) {
        expect(answer.description, `${method} ${path} ${status}`).toMatch(/\w/);
        if (Number(status) >= 400) expect(answer.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(Object.keys(opOf(api.server.routes.find((r) => r.path === '/api/hxo/artifacts/:sha256') as Route).responses['200']?.content ?? {})).toEqual(['application/octet-stream']);
  });

  it('resolves every $ref, and every JSON Schema in it is well-formed', () => {
    const refs = [...walk(doc)].filter(([at]) => at.endsWith('/$ref'));
    expect(refs.length).toBeGreaterThan(50);
    for (const [at, ref] of refs) expect(resolve(doc, ref as string), `${at} → ${String(ref)}`).toBeDefined();
    const schemas = [...walk(doc)].filter(([at]) => at.endsWith('/schema') || at.endsWith('/client_frames') || /^#\/components\/schemas\/[^/]+$/.test(at));
    expect(schemas.length).toBeGreaterThan(40);
    expect(schemas.flatMap(([at, schema]) => schemaProblems(schema, at))).toEqual([]);
  });

  it('documents the stream as a GET that upgrades, with the frames a client may send', async () => {
    const op = doc.paths[STREAM_PATH]?.get as Operation;
    expect(op.responses['101']).toBeDefined();
    expect(op['x-capability']).toBe('xyn:events:read');
    expect(op.security).toEqual([{ bearer: [] }, { query_token: [] }]);
    expect(doc.components.securitySchemes.query_token).toMatchObject({ type: 'apiKey', in: 'query', name: 'token' });
    const codec = parametersOf(op).find((p) => p.name === 'codec') as Parameter;
    const frames = op['x-websocket']?.client_frames;
    const subscribe = { op: 'subscribe', topics: ['openapi.>'], since: 0 };
    expect(violations(frames, subscribe)).toEqual([]);
    expect(violations(frames, { op: 'subscribe', topics: [] })).not.toEqual([]);
    // The upgrade as documented: a codec it lists, a frame of that schema, answered.
    const client = await connect(api.server.port, `?codec=${(codec.schema.enum as string[])[1] as string}`, bearer(api.tokens.viewer));
    client.send(subscribe);
    await client.until(() => client.frames.some((f) => f.type === 'subscribed'));
    client.ws.close();
  });
});

describe('the document agrees with the node', () => {
  const error = (a: Answer) => a.body.error as { message: string; details: { field?: string } | null };

  it('refuses a query number past a bound it documents, naming the field; and an id not of its pattern', async () => {
    let probed = 0;
    for (const [method, path, op] of operations()) {
      if (path === STREAM_PATH) continue;
      const params = parametersOf(op);
      const fill = (name: string, value: string) => path.replace(/\{([^}]+)\}/g, (_, n: string) => encodeURIComponent(n === name ? value : (params.find((p) => p.name === n)?.example as string)));
      const body = method === 'post' ? { body: {} } : {};
      for (const p of params) {
        if (p.in === 'path') {
          const answer = await api.call(method.toUpperCase(), fill(p.name, '!'), body);
          expect(answer.status, `${method} ${path} ${p.name}`).toBe(400);
          expect(error(answer).details?.field).toBe(`path.${p.name}`);
          probed++;
        }
        if (p.in !== 'query' || p.schema.type !== 'integer') continue;
        for (const past of [(p.schema.maximum as number) + 1, (p.schema.minimum as number) - 1]) {
          const answer = await api.call(method.toUpperCase(), `${fill('', '')}?${p.name}=${past}`, body);
          expect(answer.status, `${method} ${path}?${p.name}=${past}`).toBe(400);
          expect(error(answer).message).toMatch(new RegExp(`^query\\.${p.name}: `));
          probed++;
        }
      }
    }
    expect(probed).toBeGreaterThan(25);
  });

  it('takes the examples it gives for ids (any refusal is for something else)', async () => {
    for (const [method, path, op] of operations()) {
      if (path === STREAM_PATH || !path.includes('{')) continue;
      const params = parametersOf(op);
      const filled = path.replace(/\{([^}]+)\}/g, (_, n: string) => params.find((p) => p.name === n)?.example as string);
      const answer = await api.call(method.toUpperCase(), filled, method === 'post' ? { body: {} } : {});
      expect(answer.status, `${method} ${filled}`).toBeLessThan(500);
      if (answer.status >= 400) expect(error(answer).details?.field ?? '', `${method} ${filled}`).not.toMatch(/^path\./);
    }
  });

  it('takes a body of its schema and refuses one that is not, naming the field', async () => {
    const schema = (path: string) => doc.paths[path]?.post?.requestBody?.content['application/json']?.schema;
    const cases: { path: string; good: unknown; bad: unknown; status: number; field: RegExp; refused: number }[] = [
      { path: '/api/v1/events', good: { event_name: 'openapi.ping', data: { n: 1 } }, bad: { event_name: 'openapi.ping', colour: 'red' }, status: 201, field: /colour/, refused: 400 },
      { path: '/api/v1/tokens', good: { role: 'viewer', principal: 'openapi-test' }, bad: { role: 'emperor' }, status: 201, field: /^body\.role: /, refused: 400 },
      { path: '/api/hxo/create-and-submit', good: computeHashPlan('openapi-doc', 2), bad: { name: 'openapi-doc', stages: [] }, status: 202, field: /stages/, refused: 422 },
    ];
    for (const c of cases) {
      expect(violations(schema(c.path), c.good), c.path).toEqual([]);
      expect(violations(schema(c.path), c.bad), c.path).not.toEqual([]);
      expect((await api.call('POST', c.path, { body: c.good })).status, c.path).toBe(c.status);
      const refused = await api.call('POST', c.path, { body: c.bad });
      expect(refused.status, c.path).toBe(c.refused);
      expect(error(refused).message).toMatch(c.field);
    }
  });

  it("answers errors in the shape it documents", async () => {
    const errorSchema = doc.components.schemas.Error;
    const answers = [await api.call('GET', '/api/hxo/status/no-such-plan'), await api.call('GET', '/api/v1/events?limit=0'), await api.call('GET', '/api/v1/tokens', { token: null })];
    expect(answers.map((a) => a.status)).toEqual([404, 400, 401]);
    for (const a of answers) expect(violations(errorSchema, a.body)).toEqual([]);
    expect(violations(errorSchema, { error: { code: 'x', message: 'y' }, correlation_id: 'z' })).not.toEqual([]);
  });
});

/**
 * The run launcher (`/ui/runs/new`, seed 004 §44.1): pick an active
 * blueprint, then fill a form made from its `inputs` declarations, and
 * `POST /ui/runs` starts the run through `POST /api/v1/runs`. A blueprint's
 * inputs name no type, so a field's kind follows its default: a number, a
 * true/false choice, JSON for an object or a list, text otherwise. A field
 * left empty is not sent (its default applies, or the API says it is
 * required); what the API refuses is shown on the form, the values kept.
 */
import { z } from 'zod';
import { ApiError, toApiError } from '../../api/errors.ts';
import { page, type PageRequest, type PageRoute } from '../../api/pages.ts';
import { BLUEPRINT_ID } from '../../api/params.ts';
import type { BlueprintInput } from '../../xyn/blueprint/shape.ts';
import type { BlueprintVersion } from '../../xyn/drafts/records.ts';
import { view } from '../render.ts';

/** The blueprints the picker offers: the first page of active ones (the API's largest). */
const PICKER_LIMIT = 500;
/** A form field of an input is `input.NAME`: no clash with the form's own fields. */
const FIELD_PREFIX = 'input.';

export type FieldKind = 'number' | 'boolean' | 'json' | 'text';

/** What a field of the form is, from the input's declaration. */
export interface InputField {
  name: string;
  field: string;
  kind: FieldKind;
  required: boolean;
  description: string;
  /** The default, as the field shows it ('' for none). */
  placeholder: string;
}

export function fieldKind(input: BlueprintInput): FieldKind {
  const d = input.default;
  if (typeof d === 'number') return 'number';
  if (typeof d === 'boolean') return 'boolean';
  if (d !== null && typeof d === 'object') return 'json';
  return 'text';
}

function inputFields(inputs: readonly BlueprintInput[]): InputField[] {
  return inputs.map((i) => {
    const kind = fieldKind(i);
    const d = i.default;
    return {
      name: i.name,
      field: FIELD_PREFIX + i.name,
      kind,
      // An input with a default is never missing: leaving it empty takes the default.
      required: i.required && d === undefined,
      description: i.description ?? '',
      placeholder: d === undefined ? '' : kind === 'text' ? String(d) : JSON.stringify(d),
    };
  });
}

/** A field's text as the input's value; undefined when left empty. A 400 naming the field when it does not read as its kind. */
export function fieldValue(f: InputField, text: string): unknown {
  if (text.trim() === '') return undefined;
  if (f.kind === 'text') return text;
  if (f.kind === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new ApiError(400, 'bad_request', `input ${f.name}: expected true or false, got ${JSON.stringify(text.slice(0, 50))}`, { field: f.name });
  }
  if (f.kind === 'number') {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
    throw new ApiError(400, 'bad_request', `input ${f.name}: expected a number, got ${JSON.stringify(text.slice(0, 50))}`, { field: f.name });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError(400, 'bad_request', `input ${f.name}: expected JSON (an object or a list, as its default ${f.placeholder}): ${(err as Error).message}`, { field: f.name });
  }
}

interface Picked {
  record: BlueprintVersion;
  definition: { name: string; description?: string; inputs: BlueprintInput[] };
}

const launcherQuery = z.object({ blueprint: z.string().optional() });
const launchForm = z.looseObject({
  blueprint: z.string().regex(BLUEPRINT_ID.pattern, { error: `expected ${BLUEPRINT_ID.expected}: pick one on /ui/runs/new` }),
  version: z.string().regex(/^[1-9][0-9]{0,14}$/, { error: 'expected the version the form was made for (a whole number from 1): reload /ui/runs/new' }),
});

/** The launcher page: the picker, and the form of the blueprint picked (its active version, or the one a refused form was for). */
async function launcher(req: PageRequest, picking: { blueprint?: string; version?: string }, entered: Record<string, string> = {}, problem?: ApiError) {
  const blueprints = await req.api.json<{ items: BlueprintVersion[]; next_cursor: string | null }>('GET', '/api/v1/blueprints', { query: { limit: PICKER_LIMIT } });
  const picked = picking.blueprint ? await req.api.json<Picked>('GET', `/api/v1/blueprints/${encodeURIComponent(picking.blueprint)}`, { query: { version: picking.version } }) : undefined;
  const issues = (problem?.details?.issues as { path: string; message: string }[] | undefined) ?? [];
  return view(
    req,
    'run-new',
    { blueprints, picked, fields: picked ? inputFields(picked.definition.inputs) : [], entered, problem, issues },
    { status: problem?.status ?? 200 },
  );
}

export function runLauncherPages(): PageRoute[] {
  return [
    page({
      method: 'GET',
      path: '/ui/runs/new',
      capability: 'xyn:runs:write',
      summary: 'the run launcher: pick an active blueprint, fill its inputs',
      query: launcherQuery,
      handle: (req) => launcher(req, req.query.blueprint ? { blueprint: req.query.blueprint } : {}),
    }),
    page({
      method: 'POST',
      path: '/ui/runs',
      capability: 'xyn:runs:write',
      summary: 'start a run from the launcher form',
      form: launchForm,
      async handle(req) {
        const { blueprint, version } = req.form;
        const entered = req.form as Record<string, string>;
        try {
          const picked = await req.api.json<Picked>('GET', `/api/v1/blueprints/${blueprint}`, { query: { version } });
          const inputs: Record<string, unknown> = {};
          for (const f of inputFields(picked.definition.inputs)) {
            const value = fieldValue(f, entered[f.field] ?? '');
            if (value !== undefined) inputs[f.name] = value;
          }
          const run = await req.api.json<{ run_id: string }>('POST', '/api/v1/runs', { body: { blueprint_ref: `${blueprint}@${version}`, inputs } });
          return { redirect: `/ui/runs/${run.run_id}` };
        } catch (err) {
          const problem = toApiError(err);
          // The caller's fault (bad inputs, a blueprint gone): the form again, saying what is wrong. Anything else is the error page.
          if (problem.status >= 500) throw err;
          return launcher(req, { blueprint, version }, entered, problem);
        }
      },
    }),
  ];
}

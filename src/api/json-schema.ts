/**
 * A zod schema as JSON Schema (2020-12, the dialect of OpenAPI 3.1), for the
 * OpenAPI document. A request's schema is its input (`?limit=` may be left
 * out: the default fills it). Inlined, without `$schema`: a `$ref` of the
 * schema's own would point into the document, not into the schema.
 */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, reused: 'inline', cycles: 'throw', unrepresentable: 'throw' });
  return rest;
}

/** JSON answers held to a step's schema, and the wait a 429 asks for, read from its headers. */
import { describe, expect, it } from 'vitest';
import { answerChecker } from '../../../src/xyn/agents/json-answer.ts';
import { retryAfterMs } from '../../../src/xyn/agents/provider.ts';

const schema = {
  type: 'object',
  properties: { host: { type: 'string' }, action: { type: 'string', enum: ['restart', 'ignore'] }, ports: { type: 'array', items: { type: 'integer' } } },
  required: ['host', 'action'],
  additionalProperties: false,
};

describe('answerChecker', () => {
  it('takes JSON as it is, or inside a ```json fence with words around it', () => {
    const check = answerChecker(schema);
    expect(check('{"host":"a","action":"restart"}')).toEqual({ ok: true, value: { host: 'a', action: 'restart' } });
    expect(check('Here it is:\n```json\n{"host":"b","action":"ignore","ports":[22]}\n```\nDone.')).toEqual({ ok: true, value: { host: 'b', action: 'ignore', ports: [22] } });
    expect(check('```\n{"host":"c","action":"ignore"}```')).toMatchObject({ ok: true });
  });

  it('names each way the answer breaks the schema', () => {
    const check = answerChecker(schema);
    const result = check('{"action":"reboot","ports":[22,"x"],"extra":1}');
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^answer\.host: /), expect.stringMatching(/^answer\.action: .*restart/), expect.stringMatching(/^answer\.ports\[1\]: /), expect.stringMatching(/^answer: .*extra/)]),
    );
  });

  it('says an answer that is not JSON is not, quoting its start', () => {
    expect(answerChecker(undefined)('Sure! The host is a.')).toEqual({ ok: false, errors: ['answer: not JSON (starts "Sure! The host is a.")'] });
    expect(answerChecker(undefined)('')).toEqual({ ok: false, errors: ['answer: not JSON (empty)'] });
    expect(answerChecker(undefined)('[1,2]')).toEqual({ ok: true, value: [1, 2] });
  });

  it('refuses a schema it cannot check, before any answer', () => {
    expect(() => answerChecker({ type: 'widget' })).toThrow(expect.objectContaining({ code: 'AGENT_SCHEMA_INVALID', message: expect.stringMatching(/schema: .*widget.*supported: type, properties/) }));
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms first, then retry-after in seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(retryAfterMs(new Headers(), now)).toBeNull();
  });
});

/**
 * A draft's issues placed on its lines (src/ui/pages/draft-lines.ts), with
 * the validator's own issues: a field names its line, a missing field its
 * nearest present ancestor, a syntax error the line its message gives; an
 * issue with no line (or in a text that does not parse) is left unplaced.
 */
import { describe, expect, it } from 'vitest';
import { placeIssues } from '../../src/ui/pages/draft-lines.ts';
import { parseBlueprintText, validateBlueprint } from '../../src/xyn/blueprint/index.ts';

function issuesOf(text: string, fileName = 'draft.yaml') {
  const parsed = parseBlueprintText(text, fileName);
  const result = parsed.ok ? validateBlueprint(parsed.value) : parsed;
  if (result.ok) throw new Error('expected issues');
  return result.issues;
}

const placed = (text: string, fileName?: string) => {
  const { lines, unplaced } = placeIssues(text, issuesOf(text, fileName));
  return { at: lines.filter((l) => l.issues.length > 0).map((l) => [l.number, l.issues.map((i) => i.path)]), unplaced: unplaced.map((i) => i.path) };
};

const TEXT = `id: ui.lines
name: lines
trigger:
  event_type: ui.never
plan:
  - kind: transform
    id: first
    outputs:
      x: "{{inputs.nope}}"
  - kind: action_task
    id: second
    action: http.call
`;

describe('placing issues on lines', () => {
  it('puts a field on its line and a missing field on the nearest field that is there', () => {
    expect(placed(TEXT)).toEqual({ at: [[10, ['plan[1].with']]], unplaced: [] });
    expect(placed(TEXT.replace('name: lines\n', ''))).toEqual({ at: [[9, ['plan[1].with']]], unplaced: ['name'] });
    expect(placed(TEXT.replace('    action: http.call\n', '    action: http.call\n    with: {}\n').replace('id: first', 'id: 9first'))).toEqual({ at: [[7, ['plan[0].id']]], unplaced: [] });
  });

  it('puts a syntax error on the line its message names (the last, when it names the end); JSON text is placed as YAML reads it', () => {
    expect(placed(`${TEXT}  - [unclosed\n`).at.map(([line]) => line)).toEqual([13]);
    expect(placed(TEXT.replace('id: first', 'id: first\n    id: again')).at.map(([line]) => line)).toEqual([8]);
    expect(placed('{"id": "ui.json", "name": "j", "trigger": {"event_type": "x"}, "plan": [{"kind": "gate", "id": "g"}]}', 'draft.json')).toEqual({ at: [[1, ['plan[0].mode']]], unplaced: [] });
  });

  it('keeps the text line for line, CRLF or not, and a trailing newline adds no line', () => {
    const { lines } = placeIssues('a: 1\r\nb: 2\r\n', []);
    expect(lines.map((l) => [l.number, l.text])).toEqual([[1, 'a: 1'], [2, 'b: 2']]);
  });
});

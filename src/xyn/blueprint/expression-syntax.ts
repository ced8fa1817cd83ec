/**
 * The expression language's syntax: a tokenizer and a Pratt parser, written
 * by hand (no eval, no Function). An expression is parsed once into an Expr
 * tree; expressions.ts evaluates it. Errors name the column (1-based) and the
 * text: `unexpected ")" at column 6 in "a == )"`.
 *
 *   parseExpression("steps.check.outputs.status == 200 && inputs.force")
 */
import { FUNCTIONS, functionArity } from './expression-functions.ts';
import { ExpressionError } from './expression-values.ts';

export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_EXPRESSION_DEPTH = 64;

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<' | '<=' | '>' | '>=' | '==' | '!=';
export type LogicalOp = '&&' | '||' | '??';

/** A parsed expression; `column` is where it starts in its text (1-based). */
export type Expr =
  | { type: 'literal'; value: string | number | boolean | null; column: number }
  | { type: 'array'; items: Expr[]; column: number }
  | { type: 'path'; segments: string[]; column: number }
  | { type: 'unary'; op: '!' | '-'; operand: Expr; column: number }
  | { type: 'binary'; op: BinaryOp; left: Expr; right: Expr; column: number }
  | { type: 'logical'; op: LogicalOp; left: Expr; right: Expr; column: number }
  | { type: 'conditional'; test: Expr; then: Expr; else: Expr; column: number }
  | { type: 'call'; name: string; args: Expr[]; column: number };


type Token = { kind: 'number' | 'string' | 'name' | 'punct' | 'end'; value: string; raw: string; column: number };

const PUNCTS = ['<=', '>=', '==', '!=', '&&', '||', '??', '(', ')', '[', ']', ',', '.', '!', '-', '+', '*', '/', '%', '<', '>', '?', ':'];
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'", '"': '"', '/': '/' };
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER_RE = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INDEX_RE = /\d+/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(text)?.[0];
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const afterDot = tokens[tokens.length - 1]?.value === '.' && tokens[tokens.length - 1]?.kind === 'punct';
    // After a dot a number is a path's index (`items.0.id`), never a fraction.
    const number = /\d/.test(c) ? match(afterDot ? INDEX_RE : NUMBER_RE) : undefined;
    const name = number === undefined ? match(NAME_RE) : undefined;
    if (number !== undefined) tokens.push({ kind: 'number', value: number, raw: number, column: start + 1 });
    else if (name !== undefined) tokens.push({ kind: 'name', value: name, raw: name, column: start + 1 });
    else if (c === "'" || c === '"') tokens.push(readString(text, start));
    else {
      const punct = PUNCTS.find((p) => text.startsWith(p, i));
      if (punct === undefined) throw new ExpressionError(`unexpected "${c}"`, start + 1, text);
      tokens.push({ kind: 'punct', value: punct, raw: punct, column: start + 1 });
    }
    i += tokens[tokens.length - 1]?.raw.length ?? 1;
  }
  tokens.push({ kind: 'end', value: '', raw: '', column: text.length + 1 });
  return tokens;
}

/** The string literal opening at `start` (its quote), escapes read. */
function readString(text: string, start: number): Token {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  for (;;) {
    const d = text[i];
    if (d === undefined) throw new ExpressionError('unterminated string', start + 1, text);
    if (d === quote) break;
    if (d !== '\\') {
      value += d;
      i++;
      continue;
    }
    const e = text[i + 1] ?? '';
    const hex = text.slice(i + 2, i + 6);
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
      value += String.fromCharCode(parseInt(hex, 16));
      i += 6;
      continue;
    }
    const escaped = Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : undefined;
    if (escaped === undefined) throw new ExpressionError(`unknown escape "\\${e}"`, i + 1, text);
    value += escaped;
    i += 2;
  }
  return { kind: 'string', value, raw: text.slice(start, i + 1), column: start + 1 };
}

const BINARY: Record<string, { bp: number; logical?: true }> = {
  '??': { bp: 2, logical: true },
  '||': { bp: 3, logical: true },
  '&&': { bp: 4, logical: true },
  '==': { bp: 5 },
  '!=': { bp: 5 },
  '<': { bp: 6 },
  '<=': { bp: 6 },
  '>': { bp: 6 },
  '>=': { bp: 6 },
  '+': { bp: 7 },
  '-': { bp: 7 },
  '*': { bp: 8 },
  '/': { bp: 8 },
  '%': { bp: 8 },
};
const TERNARY_BP = 1;
const KEYWORDS: Record<string, boolean | null> = { true: true, false: false, null: null };

/** Parses an expression; an ExpressionError naming the column when it does not parse or breaks a limit. */
/** Parsed expressions by their text: every run of a blueprint evaluates the same ones (trees are never changed once made). */
const parsed = new Map<string, Expr>();
const PARSED_MAX = 4096;

export function parseExpression(text: string): Expr {
  let expr = parsed.get(text);
  if (expr) return expr;
  expr = parseUncached(text);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(text, expr);
  return expr;
}

function parseUncached(text: string): Expr {
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? (tokens[tokens.length - 1] as Token);
  const next = (): Token => {
    const t = peek();
    pos++;
    return t;
  };
  const unexpected = (t: Token): never => {
    throw new ExpressionError(t.kind === 'end' ? 'unexpected end' : `unexpected "${t.raw}"`, t.column, text);
  };
  const expect = (value: string): Token => {
    const t = next();
    if (t.kind !== 'punct' || t.value !== value) unexpected(t);
    return t;
  };
  const isPunct = (value: string) => peek().kind === 'punct' && peek().value === value;
  const tooDeep = (column: number): never => {
    throw new ExpressionError(`nests deeper than ${MAX_EXPRESSION_DEPTH} levels`, column, text);
  };

  const list = (close: string, depth: number): Expr[] => {
    const items: Expr[] = [];
    if (!isPunct(close)) {
      items.push(expression(TERNARY_BP, depth + 1));
      while (isPunct(',')) {
        next();
        items.push(expression(TERNARY_BP, depth + 1));
      }
    }
    expect(close);
    return items;
  };

  const path = (first: Token): Expr => {
    const segments = [first.value];
    for (;;) {
      if (isPunct('.')) {
        next();
        const t = next();
        if (t.kind !== 'name' && t.kind !== 'number') unexpected(t);
        segments.push(t.value);
      } else if (isPunct('[')) {
        next();
        const t = next();
        if (t.kind === 'number' && !/^\d+$/.test(t.value)) throw new ExpressionError('an index is a whole number or a quoted key', t.column, text);
        if (t.kind !== 'number' && t.kind !== 'string') unexpected(t);
        segments.push(t.value);
        expect(']');
      } else return { type: 'path', segments, column: first.column };
    }
  };

  const prefix = (depth: number): Expr => {
    const t = next();
    const column = t.column;
    if (t.kind === 'number') return { type: 'literal', value: Number(t.value), column };
    if (t.kind === 'string') return { type: 'literal', value: t.value, column };
    if (t.kind === 'name') {
      if (Object.hasOwn(KEYWORDS, t.value)) return { type: 'literal', value: KEYWORDS[t.value] ?? null, column };
      if (!isPunct('(')) return path(t);
      next();
      if (!FUNCTIONS.has(t.value)) throw new ExpressionError(`"${t.value}" is not a function (the functions are ${[...FUNCTIONS.keys()].join(', ')})`, column, text);
      const args = list(')', depth);
      const problem = functionArity(t.value, args.length);
      if (problem) throw new ExpressionError(problem, column, text);
      return { type: 'call', name: t.value, args, column };
    }
    if (t.kind === 'punct') {
      if (t.value === '(') {
        const inner = expression(TERNARY_BP, depth + 1);
        expect(')');
        return inner;
      }
      if (t.value === '[') return { type: 'array', items: list(']', depth), column };
      if (t.value === '!' || t.value === '-') return { type: 'unary', op: t.value, operand: expression(9, depth + 1), column };
    }
    return unexpected(t);
  };

  function expression(minBp: number, depth: number): Expr {
    if (depth > MAX_EXPRESSION_DEPTH) tooDeep(peek().column);
    let left = prefix(depth);
    for (;;) {
      const t = peek();
      if (t.kind !== 'punct') return left;
      if (t.value === '?' && minBp <= TERNARY_BP) {
        next();
        const then = expression(TERNARY_BP, depth + 1);
        expect(':');
        left = { type: 'conditional', test: left, then, else: expression(TERNARY_BP, depth + 1), column: left.column };
        continue;
      }
      const op = Object.hasOwn(BINARY, t.value) ? BINARY[t.value] : undefined;
      if (!op || op.bp < minBp) return left;
      next();
      const right = expression(op.bp + 1, depth + 1);
      left = op.logical
        ? { type: 'logical', op: t.value as LogicalOp, left, right, column: left.column }
        : { type: 'binary', op: t.value as BinaryOp, left, right, column: left.column };
    }
  }

  const expr = expression(TERNARY_BP, 1);
  if (peek().kind !== 'end') unexpected(peek());
  if (depthOf(expr) > MAX_EXPRESSION_DEPTH) tooDeep(1);
  return expr;
}

/** The tree's depth: a literal or path is 1. */
export function depthOf(e: Expr): number {
  switch (e.type) {
    case 'literal':
    case 'path':
      return 1;
    case 'array':
    case 'call':
      return 1 + Math.max(0, ...(e.type === 'array' ? e.items : e.args).map(depthOf));
    case 'unary':
      return 1 + depthOf(e.operand);
    case 'binary':
    case 'logical':
      return 1 + Math.max(depthOf(e.left), depthOf(e.right));
    case 'conditional':
      return 1 + Math.max(depthOf(e.test), depthOf(e.then), depthOf(e.else));
  }
}

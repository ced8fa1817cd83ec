/**
 * A small, safe expression language for templates (`{{ … }}`) and a step's
 * `when`: literals, paths into the run's context, operators and a fixed list
 * of pure functions (docs/blueprints.md has the whole of it). Expressions are
 * parsed by hand (expression-syntax.ts) and evaluated by walking the tree:
 * nothing is ever run as code, and a path reads only the context's own data.
 *
 *   const expr = parseExpression("steps.check.outputs.status == 200 && inputs.force");
 *   expressionPaths(expr); // [['steps','check','outputs','status'], ['inputs','force']]
 *   truthy(evaluate(expr, { inputs: { force: true }, steps: { check: { outputs: { status: 200 } } } })); // true
 */
import type { BinaryOp, Expr } from './expression-syntax.ts';
import { FUNCTIONS } from './expression-functions.ts';
import { deepEqual, ExpressionError, limited, stringify, truthy, typeName } from './expression-values.ts';
import { lookup, tryLookup, type PathScope } from './template-context.ts';

export { parseExpression, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH, type Expr } from './expression-syntax.ts';
export { ExpressionError, MAX_SPLIT_ENTRIES, MAX_STRING_LENGTH, truthy } from './expression-values.ts';

/** Every path the expression reads, in the order written, each as its segments (`items[0]` is `'items', '0'`). */
export function expressionPaths(expr: Expr): string[][] {
  switch (expr.type) {
    case 'literal':
      return [];
    case 'path':
      return [expr.segments];
    case 'array':
      return expr.items.flatMap(expressionPaths);
    case 'call':
      return expr.args.flatMap(expressionPaths);
    case 'unary':
      return expressionPaths(expr.operand);
    case 'binary':
    case 'logical':
      return [...expressionPaths(expr.left), ...expressionPaths(expr.right)];
    case 'conditional':
      return [...expressionPaths(expr.test), ...expressionPaths(expr.then), ...expressionPaths(expr.else)];
  }
}

/**
 * The expression's value in `context`. A path that is not there is a
 * TemplateError naming it (or `label`, e.g. the template) and where it
 * stopped — except as the left of `??` or the first argument of `default`,
 * where it is undefined. An operator or function given a value it does not
 * take is an ExpressionError.
 */
export function evaluate(expr: Expr, context: PathScope, label?: string): unknown {
  const at = (e: Expr): unknown => {
    switch (e.type) {
      case 'literal':
        return e.value;
      case 'array':
        return e.items.map(at);
      case 'path':
        return lookup(e.segments, label ?? e.segments.join('.'), context);
      case 'unary': {
        const v = at(e.operand);
        if (e.op === '!') return !truthy(v);
        if (typeof v !== 'number') throw new ExpressionError(`"-" takes a number, not ${typeName(v)}`, e.column);
        return -v;
      }
      case 'binary':
        return binary(e.op, at(e.left), at(e.right), e.column);
      case 'logical': {
        if (e.op === '??') {
          const left = lenient(e.left);
          return left === null || left === undefined ? at(e.right) : left;
        }
        const left = at(e.left);
        return truthy(left) === (e.op === '&&') ? at(e.right) : left;
      }
      case 'conditional':
        return truthy(at(e.test)) ? at(e.then) : at(e.else);
      case 'call': {
        const f = FUNCTIONS.get(e.name);
        if (!f) throw new ExpressionError(`"${e.name}" is not a function`, e.column);
        const args = e.args.map((a, i) => (i === 0 && e.name === 'default' ? lenient(a) : at(a)));
        return f.call(args, e.name);
      }
    }
  };
  // A path that is not there reads as undefined (for ?? and default).
  const lenient = (e: Expr): unknown => {
    if (e.type !== 'path') return at(e);
    const found = tryLookup(e.segments, context);
    return found.ok ? found.value : undefined;
  };
  return at(expr);
}

function binary(op: BinaryOp, l: unknown, r: unknown, column: number): unknown {
  switch (op) {
    case '==':
      return deepEqual(l, r);
    case '!=':
      return !deepEqual(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const comparable = (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string');
      if (!comparable) throw new ExpressionError(`"${op}" compares two numbers or two strings, not ${typeName(l)} and ${typeName(r)}`, column);
      const [a, b] = [l as number | string, r as number | string];
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case '+':
      if (typeof l === 'string' || typeof r === 'string') return limited(stringify(l) + stringify(r), '"+"');
      return arithmetic(op, l, r, column);
    default:
      return arithmetic(op, l, r, column);
  }
}

function arithmetic(op: BinaryOp, l: unknown, r: unknown, column: number): number {
  if (typeof l !== 'number' || typeof r !== 'number') {
    throw new ExpressionError(`"${op}" takes two numbers${op === '+' ? ' (or joins onto a string)' : ''}, not ${typeName(l)} and ${typeName(r)}`, column);
  }
  if ((op === '/' || op === '%') && r === 0) throw new ExpressionError('division by zero', column);
  const v = op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : op === '/' ? l / r : l % r;
  if (!Number.isFinite(v)) throw new ExpressionError(`"${op}" makes a number too large`, column);
  return v;
}

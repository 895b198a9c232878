/**
 * DynamoDB condition, update and projection expressions, evaluated the way DynamoDB evaluates them, for the
 * generic tables of {@link FakeDynamoDb} (a table created with `keySchema`).
 *
 * Modelled (top-level attributes only; a nested path `a.b` or `a[0]` fails loudly):
 * - conditions: `=`, `<>`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `IN`, `AND`, `OR`, `NOT`, parentheses, and the functions
 *   `attribute_exists`, `attribute_not_exists`, `attribute_type`, `begins_with`, `contains`, `size`;
 * - updates: `SET a = v`, `SET a = v + w` / `v - w` (numbers), `SET a = if_not_exists(a, v)`, `REMOVE a`,
 *   `ADD a :n` (number) / `ADD a :set` (string or number set), `DELETE a :set`;
 * - projections: a comma-separated list of attribute names.
 *
 * As in DynamoDB: a comparison with an attribute the item does not have, or with a value of another type, is false;
 * `#name` and `:value` placeholders must all be defined, and every defined one must be used (DynamoDB rejects unused
 * `ExpressionAttributeNames` / `ExpressionAttributeValues` with a ValidationException).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/** The placeholders of a request. */
export interface ExpressionAttributes {
  readonly names?: Record<string, string>;
  readonly values?: Record<string, AttributeValue>;
}

/** A request DynamoDB rejects (ValidationException). */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

// ------------------------------------------------------------------------------------------------ tokens

type TokenKind = 'name' | 'value' | 'word' | 'op' | '(' | ')' | ',' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>|\+|-)|([(),])|(\S))/gy;
  let match: RegExpExecArray | null;
  // The last alternative takes any other character, so only the end of the expression stops the loop.
  while ((match = re.exec(expression)) !== null) {
    if (match[1]) {tokens.push({ kind: 'name', text: match[1] });} else if (match[2]) {tokens.push({ kind: 'value', text: match[2] });} else if (match[3]) {tokens.push({ kind: 'word', text: match[3] });} else if (match[4]) {tokens.push({ kind: 'op', text: match[4] });} else if (match[5]) {tokens.push({ kind: match[5] as '(' | ')' | ',', text: match[5] });} else if (match[6]) {
      throw new ExpressionError(`Invalid expression: "${match[6]}" at ${match.index} in ${JSON.stringify(expression)}`
        + (match[6] === '.' || match[6] === '[' ? ' (FakeDynamoDb models top-level attributes only)' : ''));
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[], private readonly expression: string) {}

  public peek(): Token {
    return this.tokens[this.position];
  }

  public peekAt(offset: number): Token | undefined {
    return this.tokens[this.position + offset];
  }

  public next(): Token {
    return this.tokens[this.position++];
  }

  public isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }

  public expect(kind: TokenKind, text?: string): Token {
    const t = this.next();
    if (t.kind !== kind || (text !== undefined && t.text !== text)) {
      throw new ExpressionError(`Invalid expression: expected ${text ?? kind}, got "${t.text || 'end'}" in ${JSON.stringify(this.expression)}`);
    }
    return t;
  }

  public expectWord(word: string): void {
    if (!this.isWord(word)) {
      throw new ExpressionError(`Invalid expression: expected ${word}, got "${this.peek().text || 'end'}" in ${JSON.stringify(this.expression)}`);
    }
    this.next();
  }

  public fail(what: string): never {
    throw new ExpressionError(`Invalid expression: ${what} in ${JSON.stringify(this.expression)}`);
  }
}

// ------------------------------------------------------------------------------------------------ operands

type Operand =
  | { readonly kind: 'path'; readonly name: string }
  | { readonly kind: 'value'; readonly value: AttributeValue }
  | { readonly kind: 'size'; readonly name: string };

const RESERVED_FUNCTIONS = new Set(['ATTRIBUTE_EXISTS', 'ATTRIBUTE_NOT_EXISTS', 'ATTRIBUTE_TYPE', 'BEGINS_WITH', 'CONTAINS', 'SIZE', 'IF_NOT_EXISTS']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'SET', 'REMOVE', 'ADD', 'DELETE']);

/** Tracks which placeholders an expression used. */
export class Placeholders {
  public readonly usedNames = new Set<string>();
  public readonly usedValues = new Set<string>();
  constructor(private readonly attributes: ExpressionAttributes) {}

  public name(token: Token): string {
    if (token.kind === 'name') {
      const resolved = this.attributes.names?.[token.text];
      if (resolved === undefined) throw new ExpressionError(`An expression attribute name used in the document path is not defined; attribute name: ${token.text}`);
      this.usedNames.add(token.text);
      return resolved;
    }
    if (KEYWORDS.has(token.text.toUpperCase())) {
      throw new ExpressionError(`Invalid expression: Attribute name is a reserved keyword; reserved keyword: ${token.text}`);
    }
    return token.text;
  }

  public value(token: Token): AttributeValue {
    const value = this.attributes.values?.[token.text];
    if (value === undefined) throw new ExpressionError(`An expression attribute value used in expression is not defined; attribute value: ${token.text}`);
    this.usedValues.add(token.text);
    return value;
  }
}

function parsePath(p: Parser, ph: Placeholders): string {
  const t = p.next();
  if (t.kind !== 'name' && t.kind !== 'word') p.fail(`expected an attribute name, got "${t.text || 'end'}"`);
  return ph.name(t);
}

function parseOperand(p: Parser, ph: Placeholders): Operand {
  const t = p.peek();
  if (t.kind === 'value') {
    p.next();
    return { kind: 'value', value: ph.value(t) };
  }
  if (t.kind === 'word' && t.text.toLowerCase() === 'size' && p.peekAt(1)?.kind === '(') {
    p.next();
    p.expect('(');
    const name = parsePath(p, ph);
    p.expect(')');
    return { kind: 'size', name };
  }
  return { kind: 'path', name: parsePath(p, ph) };
}

function operandValue(operand: Operand, item: Item | undefined): AttributeValue | undefined {
  switch (operand.kind) {
    case 'value': return operand.value;
    case 'path': return item?.[operand.name];
    case 'size': {
      const v = item?.[operand.name];
      if (!v) return undefined;
      const n = v.S !== undefined ? v.S.length
        : v.B !== undefined ? v.B.length
          : v.SS?.length ?? v.NS?.length ?? v.BS?.length ?? v.L?.length ?? (v.M ? Object.keys(v.M).length : undefined);
      return n === undefined ? undefined : { N: String(n) };
    }
  }
}

// ------------------------------------------------------------------------------------------------ values

/** An attribute value as a plain record, for the generic code below. */
function loose(v: AttributeValue | undefined): Record<string, any> {
  return (v ?? {}) as unknown as Record<string, any>;
}

function typeOf(v: AttributeValue): string {
  return Object.keys(v).find((k) => loose(v)[k] !== undefined && k !== '$unknown') ?? '?';
}

/** Equality as DynamoDB defines it: same type, same value (sets in any order). */
export function attributeEquals(a: AttributeValue, b: AttributeValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  const va = loose(a)[ta];
  const vb = loose(b)[ta];
  switch (ta) {
    case 'N': return Number(va) === Number(vb);
    case 'SS': case 'BS': return va.length === vb.length && [...va].sort().join('\u0000') === [...vb].sort().join('\u0000');
    case 'NS': return va.length === vb.length && va.map(Number).sort().join(',') === vb.map(Number).sort().join(',');
    case 'L': return va.length === vb.length && va.every((x: AttributeValue, i: number) => attributeEquals(x, vb[i]));
    case 'M': {
      const ka = Object.keys(va).sort();
      const kb = Object.keys(vb).sort();
      return ka.join() === kb.join() && ka.every((k) => attributeEquals(va[k], vb[k]));
    }
    default: return JSON.stringify(va) === JSON.stringify(vb);
  }
}

/** Order of two scalars of one type (N numerically, S and B by code unit); undefined when they cannot be ordered. */
function compare(a: AttributeValue, b: AttributeValue): number | undefined {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return undefined;
  if (ta === 'N') return Math.sign(Number(a.N) - Number(b.N));
  if (ta === 'S') return a.S! < b.S! ? -1 : a.S! > b.S! ? 1 : 0;
  return undefined;
}

// ------------------------------------------------------------------------------------------------ conditions

type Condition =
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly inner: Condition }
  | { readonly kind: 'compare'; readonly op: string; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly list: Operand[] }
  | { readonly kind: 'function'; readonly name: string; readonly args: Operand[] };

function parseOr(p: Parser, ph: Placeholders): Condition {
  let left = parseAnd(p, ph);
  while (p.isWord('OR')) {
    p.next();
    left = { kind: 'or', left, right: parseAnd(p, ph) };
  }
  return left;
}

function parseAnd(p: Parser, ph: Placeholders): Condition {
  let left = parseNot(p, ph);
  while (p.isWord('AND')) {
    p.next();
    left = { kind: 'and', left, right: parseNot(p, ph) };
  }
  return left;
}

function parseNot(p: Parser, ph: Placeholders): Condition {
  if (p.isWord('NOT')) {
    p.next();
    return { kind: 'not', inner: parseNot(p, ph) };
  }
  return parsePrimary(p, ph);
}

function parsePrimary(p: Parser, ph: Placeholders): Condition {
  const t = p.peek();
  if (t.kind === '(') {
    p.next();
    const inner = parseOr(p, ph);
    p.expect(')');
    return inner;
  }
  const upper = t.text.toUpperCase();
  if (t.kind === 'word' && RESERVED_FUNCTIONS.has(upper) && upper !== 'SIZE' && upper !== 'IF_NOT_EXISTS') {
    p.next();
    p.expect('(');
    const args: Operand[] = [parseOperand(p, ph)];
    while (p.peek().kind === ',') {
      p.next();
      args.push(parseOperand(p, ph));
    }
    p.expect(')');
    const arity: Record<string, number> = { ATTRIBUTE_EXISTS: 1, ATTRIBUTE_NOT_EXISTS: 1, ATTRIBUTE_TYPE: 2, BEGINS_WITH: 2, CONTAINS: 2 };
    if (args.length !== arity[upper]) p.fail(`${t.text} takes ${arity[upper]} argument(s), got ${args.length}`);
    if ((upper === 'ATTRIBUTE_EXISTS' || upper === 'ATTRIBUTE_NOT_EXISTS') && args[0].kind !== 'path') p.fail(`${t.text} takes an attribute`);
    return { kind: 'function', name: upper, args };
  }
  const subject = parseOperand(p, ph);
  if (p.isWord('BETWEEN')) {
    p.next();
    const low = parseOperand(p, ph);
    p.expectWord('AND');
    return { kind: 'between', subject, low, high: parseOperand(p, ph) };
  }
  if (p.isWord('IN')) {
    p.next();
    p.expect('(');
    const list = [parseOperand(p, ph)];
    while (p.peek().kind === ',') {
      p.next();
      list.push(parseOperand(p, ph));
    }
    p.expect(')');
    return { kind: 'in', subject, list };
  }
  const op = p.next();
  if (op.kind !== 'op' || !['=', '<>', '<', '<=', '>', '>='].includes(op.text)) p.fail(`expected a comparator after an operand, got "${op.text || 'end'}"`);
  return { kind: 'compare', op: op.text, left: subject, right: parseOperand(p, ph) };
}

function evaluate(c: Condition, item: Item | undefined): boolean {
  switch (c.kind) {
    case 'and': return evaluate(c.left, item) && evaluate(c.right, item);
    case 'or': return evaluate(c.left, item) || evaluate(c.right, item);
    case 'not': return !evaluate(c.inner, item);
    case 'compare': {
      const a = operandValue(c.left, item);
      const b = operandValue(c.right, item);
      if (a === undefined || b === undefined) {
        if (c.op === '<>') {
          throw new ExpressionError('FakeDynamoDb does not model "<>" with an attribute the item lacks; use attribute_not_exists() OR ... instead');
        }
        return false;
      }
      if (c.op === '=') return attributeEquals(a, b);
      if (c.op === '<>') return typeOf(a) === typeOf(b) ? !attributeEquals(a, b) : true;
      const order = compare(a, b);
      if (order === undefined) return false;
      return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[c.op]!;
    }
    case 'between': {
      const v = operandValue(c.subject, item);
      const low = operandValue(c.low, item);
      const high = operandValue(c.high, item);
      if (!v || !low || !high) return false;
      const lo = compare(v, low);
      const hi = compare(v, high);
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const v = operandValue(c.subject, item);
      return v !== undefined && c.list.some((o) => {
        const w = operandValue(o, item);
        return w !== undefined && attributeEquals(v, w);
      });
    }
    case 'function': {
      const [first, second] = c.args;
      const v = operandValue(first, item);
      switch (c.name) {
        case 'ATTRIBUTE_EXISTS': return v !== undefined;
        case 'ATTRIBUTE_NOT_EXISTS': return v === undefined;
        case 'ATTRIBUTE_TYPE': return v !== undefined && typeOf(v) === operandValue(second, item)?.S;
        case 'BEGINS_WITH': {
          const prefix = operandValue(second, item);
          return v?.S !== undefined && prefix?.S !== undefined && v.S.startsWith(prefix.S);
        }
        case 'CONTAINS': {
          const w = operandValue(second, item);
          if (!v || !w) return false;
          if (v.S !== undefined) return w.S !== undefined && v.S.includes(w.S);
          if (v.SS) return w.S !== undefined && v.SS.includes(w.S);
          if (v.NS) return w.N !== undefined && v.NS.map(Number).includes(Number(w.N));
          if (v.L) return v.L.some((x) => attributeEquals(x, w));
          return false;
        }
      }
      throw new ExpressionError(`Invalid function ${c.name}`);
    }
  }
}

/** A parsed condition expression, with the placeholders it used. */
export interface ParsedCondition {
  readonly placeholders: Placeholders;
  test(item: Item | undefined): boolean;
}

export function parseCondition(expression: string, attributes: ExpressionAttributes): ParsedCondition {
  const ph = new Placeholders(attributes);
  const p = new Parser(tokenize(expression), expression);
  const condition = parseOr(p, ph);
  p.expect('end');
  return { test: (item) => evaluate(condition, item), placeholders: ph };
}

// ------------------------------------------------------------------------------------------------ updates

type SetValue =
  | { readonly kind: 'operand'; readonly operand: Operand }
  | { readonly kind: 'if_not_exists'; readonly name: string; readonly fallback: SetValue }
  | { readonly kind: 'arithmetic'; readonly op: '+' | '-'; readonly left: SetValue; readonly right: SetValue };

type UpdateAction =
  | { readonly kind: 'SET'; readonly name: string; readonly value: SetValue }
  | { readonly kind: 'REMOVE'; readonly name: string }
  | { readonly kind: 'ADD' | 'DELETE'; readonly name: string; readonly value: AttributeValue };

function parseSetOperand(p: Parser, ph: Placeholders): SetValue {
  const t = p.peek();
  if (t.kind === 'word' && t.text.toLowerCase() === 'if_not_exists') {
    p.next();
    p.expect('(');
    const name = parsePath(p, ph);
    p.expect(',');
    const fallback = parseSetOperand(p, ph);
    p.expect(')');
    return { kind: 'if_not_exists', name, fallback };
  }
  if (t.kind === 'word' && t.text.toLowerCase() === 'list_append') p.fail('FakeDynamoDb does not model list_append');
  return { kind: 'operand', operand: parseOperand(p, ph) };
}

function parseSetValue(p: Parser, ph: Placeholders): SetValue {
  const left = parseSetOperand(p, ph);
  const t = p.peek();
  if (t.kind === 'op' && (t.text === '+' || t.text === '-')) {
    p.next();
    return { kind: 'arithmetic', op: t.text, left, right: parseSetOperand(p, ph) };
  }
  return left;
}

function parseUpdate(expression: string, ph: Placeholders): UpdateAction[] {
  const p = new Parser(tokenize(expression), expression);
  const actions: UpdateAction[] = [];
  const seen = new Set<string>();
  while (p.peek().kind !== 'end') {
    const clause = p.next();
    const upper = clause.text.toUpperCase();
    if (clause.kind !== 'word' || !['SET', 'REMOVE', 'ADD', 'DELETE'].includes(upper)) p.fail(`expected SET, REMOVE, ADD or DELETE, got "${clause.text}"`);
    if (seen.has(upper)) p.fail(`the ${upper} section can only be used once in an update expression`);
    seen.add(upper);
    do {
      if (p.peek().kind === ',') p.next();
      const name = parsePath(p, ph);
      if (upper === 'SET') {
        p.expect('op', '=');
        actions.push({ kind: 'SET', name, value: parseSetValue(p, ph) });
      } else if (upper === 'REMOVE') {
        actions.push({ kind: 'REMOVE', name });
      } else {
        const v = p.expect('value');
        actions.push({ kind: upper as 'ADD' | 'DELETE', name, value: ph.value(v) });
      }
    } while (p.peek().kind === ',');
  }
  const names = actions.map((a) => a.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ExpressionError(`Invalid UpdateExpression: Two document paths overlap with each other; path one: [${twice}], path two: [${twice}]`);
  return actions;
}

function setValueOf(v: SetValue, item: Item): AttributeValue {
  switch (v.kind) {
    case 'operand': {
      const value = operandValue(v.operand, item);
      if (value === undefined) {
        throw new ExpressionError('The provided expression refers to an attribute that does not exist in the item');
      }
      return value;
    }
    case 'if_not_exists': return item[v.name] ?? setValueOf(v.fallback, item);
    case 'arithmetic': {
      const a = setValueOf(v.left, item);
      const b = setValueOf(v.right, item);
      if (a.N === undefined || b.N === undefined) throw new ExpressionError('An operand in the update expression has an incorrect data type');
      return { N: String(v.op === '+' ? Number(a.N) + Number(b.N) : Number(a.N) - Number(b.N)) };
    }
  }
}

/** The item after an update expression, and the names of the attributes it changed. */
export function applyUpdate(expression: string, item: Item, attributes: ExpressionAttributes, keyNames: readonly string[]): {
  item: Item; updated: string[]; placeholders: Placeholders;
} {
  const ph = new Placeholders(attributes);
  const actions = parseUpdate(expression, ph);
  const next: Item = { ...item };
  for (const action of actions) {
    if (keyNames.includes(action.name)) {
      throw new ExpressionError(`One or more parameter values were invalid: Cannot update attribute ${action.name}. This attribute is part of the key`);
    }
    switch (action.kind) {
      case 'SET':
        // Every SET value is read from the item as it was before the update.
        next[action.name] = setValueOf(action.value, item);
        break;
      case 'REMOVE':
        delete next[action.name];
        break;
      case 'ADD': {
        const current = item[action.name];
        const v = action.value;
        if (v.N !== undefined) {
          if (current && current.N === undefined) throw new ExpressionError('An operand in the update expression has an incorrect data type');
          next[action.name] = { N: String(Number(current?.N ?? 0) + Number(v.N)) };
        } else if (v.SS || v.NS) {
          const type = v.SS ? 'SS' : 'NS';
          if (current && !loose(current)[type]) throw new ExpressionError('An operand in the update expression has an incorrect data type');
          const merged: string[] = [...new Set<string>([...(loose(current)[type] ?? []), ...loose(v)[type]])];
          next[action.name] = (type === 'SS' ? { SS: merged } : { NS: merged }) as AttributeValue;
        } else {
          throw new ExpressionError('Incorrect operand type for operator or function; operator: ADD, operand type: ' + typeOf(v));
        }
        break;
      }
      case 'DELETE': {
        const current = item[action.name];
        const type = action.value.SS ? 'SS' : action.value.NS ? 'NS' : undefined;
        if (!type) throw new ExpressionError('Incorrect operand type for operator or function; operator: DELETE');
        if (!current) break;
        const remove = new Set<string>(loose(action.value)[type]);
        const kept: string[] = (loose(current)[type] ?? []).filter((x: string) => !remove.has(x));
        // DynamoDB has no empty sets: deleting the last element removes the attribute.
        if (kept.length === 0) delete next[action.name];
        else next[action.name] = (type === 'SS' ? { SS: kept } : { NS: kept }) as AttributeValue;
        break;
      }
    }
  }
  return { item: next, updated: [...new Set(actions.map((a) => a.name))], placeholders: ph };
}

/** The attribute names a projection expression selects. */
export function parseProjection(expression: string, attributes: ExpressionAttributes): { names: string[]; placeholders: Placeholders } {
  const ph = new Placeholders(attributes);
  const p = new Parser(tokenize(expression), expression);
  const names = [parsePath(p, ph)];
  while (p.peek().kind === ',') {
    p.next();
    names.push(parsePath(p, ph));
  }
  p.expect('end');
  return { names, placeholders: ph };
}

/**
 * Fails as DynamoDB does when a request defines a placeholder that none of its expressions uses.
 */
export function checkAllPlaceholdersUsed(attributes: ExpressionAttributes, used: readonly Placeholders[]): void {
  const names = new Set(used.flatMap((u) => [...u.usedNames]));
  const values = new Set(used.flatMap((u) => [...u.usedValues]));
  const unusedNames = Object.keys(attributes.names ?? {}).filter((n) => !names.has(n));
  const unusedValues = Object.keys(attributes.values ?? {}).filter((v) => !values.has(v));
  if (unusedNames.length > 0) throw new ExpressionError(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
  if (unusedValues.length > 0) throw new ExpressionError(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
}

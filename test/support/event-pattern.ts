/**
 * Does an EventBridge event match an event pattern, and would EventBridge accept the pattern at all? The content
 * filtering of the EventBridge User Guide, so a test can say which events a rule lets through and that its
 * pattern deploys:
 *
 * ```ts
 * const pattern = Template.fromStack(stack).toJSON().Resources[ruleId].Properties.EventPattern;
 * expect(eventPatternProblems(pattern)).toEqual([]);
 * expect(matchesEventPattern(pattern, stoppedTaskEvent)).toBe(true);
 * ```
 *
 * Sources, by what they settle:
 * - [Event pattern syntax](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html): a
 *   pattern is a JSON object whose fields are objects (nested fields) or arrays of values; every field it names
 *   must be in the event, at the same nesting.
 * - [Arrays in event patterns](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html):
 *   a list of values matches if any one does; an array in the event matches if any element does.
 * - [Comparison operators](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)
 *   and [Content filtering](https://docs.aws.amazon.com/eventbridge/latest/userguide/content-filtering-with-event-patterns.html):
 *   the operators (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `cidr`,
 *   `exists`, `$or`), what each takes, and that `exists` works on leaf nodes only (so `exists: false` matches a
 *   field whose value is an object).
 * - [Null values and empty strings](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html):
 *   `null` and `""` are values, and not interchangeable.
 * - Where the guide is silent, AWS's open-source rule engine [aws/event-ruler](https://github.com/aws/event-ruler)
 *   (`JsonRuleCompiler`, `WildcardParser`): its rejections ("Empty objects are not allowed", "Empty arrays are
 *   not allowed", "Unrecognized match type", at least two objects in `$or`, consecutive or badly escaped wildcard
 *   characters, anything-but lists of one type) are EventBridge's error messages.
 *
 * Stricter than EventBridge on purpose, so a test never relies on undocumented behaviour:
 * - a field named both beside and inside `$or` (or in two `$or`s of one branch) is refused: its meaning is
 *   undocumented (event-ruler lets one override the other, [aws/event-ruler#22](https://github.com/aws/event-ruler/issues/22));
 * - `$or` must be a list of at least two objects (event-ruler would otherwise read it as a field named `$or`);
 * - operators event-ruler has but the guide does not document (`exactly`) are unknown.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A pattern EventBridge would refuse (or whose meaning the guide leaves open), with every reason. */
export class InvalidEventPatternError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid event pattern: ${problems.join('; ')}`);
    this.name = 'InvalidEventPatternError';
  }
}

/** Whether `event` matches `pattern`. Throws {@link InvalidEventPatternError} if EventBridge would refuse the pattern. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  const problems = eventPatternProblems(pattern);
  if (problems.length > 0) throw new InvalidEventPatternError(problems);
  return matchObject(pattern as JsonObject, event as Json);
}

/** What EventBridge would refuse in `pattern`, each with its path (`detail.lastStatus[0]`); empty if none. */
export function eventPatternProblems(pattern: unknown): string[] {
  if (!isObject(pattern)) return [`an event pattern is a JSON object, got ${describe(pattern)}`];
  const problems: string[] = [];
  checkObject(pattern as JsonObject, '', problems);
  if (problems.length === 0) {
    for (const branch of branchesOf(pattern as JsonObject, '')) {
      const seen = new Set<string>();
      for (const path of branch) {
        if (seen.has(path)) problems.push(`${path} is named more than once in one branch of $or (beside and inside it): its meaning is undocumented; name it in each alternative instead`);
        seen.add(path);
      }
    }
  }
  return [...new Set(problems)];
}

// --------------------------------------------------------------------------------------------------- validation

const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'cidr', 'exists'];
const NUMERIC_OPERATORS = ['=', '<', '<=', '>', '>='];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function checkObject(pattern: JsonObject, path: string, problems: string[]): void {
  const keys = Object.keys(pattern);
  if (keys.length === 0) problems.push(`${path || 'the pattern'} is an empty object: EventBridge rejects it ("Empty objects are not allowed")`);
  for (const key of keys) {
    const value = pattern[key];
    if (key === '$or') {
      checkOr(value, at(path, key), problems);
    } else if (isObject(value)) {
      checkObject(value, at(path, key), problems);
    } else if (Array.isArray(value)) {
      checkValues(value, at(path, key), problems);
    } else {
      problems.push(`${at(path, key)} is ${describe(value)}: a field's value is an object (nested fields) or a list of values`);
    }
  }
}

function checkOr(value: Json, path: string, problems: string[]): void {
  if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
    problems.push(`${path} is ${describe(value)}: $or takes a list of at least two objects`);
    return;
  }
  value.forEach((alternative, i) => {
    const alternativePath = `${path}[${i}]`;
    for (const key of Object.keys(alternative as JsonObject)) {
      if (OPERATORS.includes(key) || NUMERIC_OPERATORS.includes(key)) problems.push(`${at(alternativePath, key)}: ${key} is an operator, not a field name, inside $or`);
    }
    checkObject(alternative as JsonObject, alternativePath, problems);
  });
}

function checkValues(values: Json[], path: string, problems: string[]): void {
  if (values.length === 0) problems.push(`${path} is an empty list: EventBridge rejects it ("Empty arrays are not allowed")`);
  values.forEach((value, i) => {
    const where = `${path}[${i}]`;
    if (Array.isArray(value)) problems.push(`${where} is a list: a value is a string, number, true, false, null or one operator`);
    else if (isObject(value)) checkMatcher(value, where, problems);
  });
}

function checkMatcher(matcher: JsonObject, path: string, problems: string[]): void {
  const keys = Object.keys(matcher);
  if (keys.length !== 1) {
    problems.push(`${path} is ${describe(matcher)}: an operator object has exactly one operator`);
    return;
  }
  const [operator] = keys;
  const operand = matcher[operator];
  const where = `${path}.${operator}`;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (isObject(operand)) {
        if (Object.keys(operand).length !== 1 || typeof operand['equals-ignore-case'] !== 'string') {
          problems.push(`${where} is ${describe(operand)}: ${operator} takes a string or { "equals-ignore-case": string }`);
        }
      } else if (typeof operand !== 'string') {
        problems.push(`${where} is ${describe(operand)}: ${operator} takes a string`);
      }
      return;
    case 'equals-ignore-case':
      if (typeof operand !== 'string') problems.push(`${where} is ${describe(operand)}: equals-ignore-case takes a string`);
      return;
    case 'wildcard':
      if (typeof operand !== 'string') problems.push(`${where} is ${describe(operand)}: wildcard takes a string`);
      else problems.push(...wildcardProblems(operand).map((p) => `${where}: ${p}`));
      return;
    case 'exists':
      if (typeof operand !== 'boolean') problems.push(`${where} is ${describe(operand)}: exists takes true or false`);
      return;
    case 'numeric':
      problems.push(...numericProblems(operand).map((p) => `${where}: ${p}`));
      return;
    case 'cidr':
      if (typeof operand !== 'string' || parseCidr(operand) === undefined) problems.push(`${where} is ${describe(operand)}: cidr takes an IPv4 or IPv6 CIDR block such as "10.0.0.0/24"`);
      return;
    case 'anything-but':
      problems.push(...anythingButProblems(operand).map((p) => `${where}: ${p}`));
      return;
    default:
      problems.push(`${path}: ${operator} is not an EventBridge operator (one of ${OPERATORS.join(', ')})`);
  }
}

function anythingButProblems(operand: Json): string[] {
  if (typeof operand === 'string' || typeof operand === 'number') return [];
  if (Array.isArray(operand)) {
    if (operand.length === 0) return ['an empty list: EventBridge rejects it'];
    if (operand.every((o) => typeof o === 'string') || operand.every((o) => typeof o === 'number')) return [];
    return [`${describe(operand)}: anything-but takes a list of strings only or numbers only`];
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const [operator] = keys;
    if (keys.length !== 1 || !['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(operator)) {
      return [`${describe(operand)}: anything-but takes a value, a list, or one of prefix, suffix, wildcard, equals-ignore-case`];
    }
    const inner = operand[operator];
    const strings = typeof inner === 'string' ? [inner] : Array.isArray(inner) && inner.length > 0 && inner.every((i) => typeof i === 'string') ? inner as string[] : undefined;
    if (!strings) return [`${operator} is ${describe(inner)}: it takes a string or a list of strings`];
    if ((operator === 'prefix' || operator === 'suffix') && strings.some((s) => s === '')) return [`${operator} is empty: EventBridge rejects it`];
    if (operator === 'wildcard') return strings.flatMap(wildcardProblems);
    return [];
  }
  return [`${describe(operand)}: anything-but takes a string, a number, a list, or one of prefix, suffix, wildcard, equals-ignore-case`];
}

function numericProblems(operand: Json): string[] {
  const bad = [`${describe(operand)}: numeric takes [op, number] or [">" or ">=", number, "<" or "<=", number], op one of ${NUMERIC_OPERATORS.join(' ')}`];
  if (!Array.isArray(operand)) return bad;
  const isNumber = (n: Json) => typeof n === 'number' && Number.isFinite(n);
  if (operand.length === 2) return typeof operand[0] === 'string' && NUMERIC_OPERATORS.includes(operand[0]) && isNumber(operand[1]) ? [] : bad;
  if (operand.length === 4) {
    return ['>', '>='].includes(operand[0] as string) && isNumber(operand[1]) && ['<', '<='].includes(operand[2] as string) && isNumber(operand[3]) ? [] : bad;
  }
  return bad;
}

/** event-ruler's WildcardParser: no two `*` in a row; `\` escapes only `*` and `\`. */
function wildcardProblems(pattern: string): string[] {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '*' && pattern[i + 1] === '*') return [`${JSON.stringify(pattern)} has consecutive wildcard characters`];
    if (pattern[i] === '\\') {
      if (pattern[i + 1] !== '*' && pattern[i + 1] !== '\\') return [`${JSON.stringify(pattern)} has a backslash that escapes neither * nor \\`];
      i++;
    }
  }
  return [];
}

/** Every branch of the pattern's `$or`s, as the leaf paths each names (a path twice in one branch is ambiguous). */
function branchesOf(pattern: JsonObject, path: string): string[][] {
  let branches: string[][] = [[]];
  for (const [key, value] of Object.entries(pattern)) {
    const sub: string[][] = key === '$or'
      ? (value as JsonObject[]).flatMap((alternative) => branchesOf(alternative, path))
      : isObject(value) ? branchesOf(value, at(path, key)) : [[at(path, key)]];
    branches = branches.flatMap((b) => sub.map((s) => [...b, ...s]));
  }
  return branches;
}

// ----------------------------------------------------------------------------------------------------- matching

/**
 * Fields are paths (`detail.stopCode`): where the event has no object on the way, every field below is absent
 * (which `exists: false` matches).
 */
function matchObject(pattern: JsonObject, event: Json | undefined): boolean {
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') return (sub as JsonObject[]).some((alternative) => matchObject(alternative, fields));
    const value = fields[key];
    if (isObject(sub)) {
      // Nested fields against an array of objects (arrays of arrays too): one element must have them all.
      const elements = Array.isArray(value) ? value.flat(Infinity as 1).filter(isObject) : [];
      return elements.length > 0 ? elements.some((v) => matchObject(sub, v)) : matchObject(sub, value);
    }
    return matchField(sub as Json[], value);
  });
}

/** The leaf values of a field: itself if a value, the values in it if an array; an object has none (it is not a leaf). */
function leafValues(value: Json | undefined): Json[] {
  if (value === undefined || isObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  return [value];
}

/** A leaf: a list of matchers against one field (absent, a value, an array of values, or an object). */
function matchField(matchers: Json[], value: Json | undefined): boolean {
  const values = leafValues(value);
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) return matcher.exists === (values.length > 0);
    return values.some((v) => matchValue(matcher, v));
  });
}

function matchValue(matcher: Json, value: Json): boolean {
  if (!isObject(matcher)) return literalEquals(matcher, value);
  const [operator] = Object.keys(matcher);
  const operand = matcher[operator];
  const text = typeof value === 'string' ? value : undefined;
  switch (operator) {
    case 'prefix':
      if (text === undefined) return false;
      return isObject(operand)
        ? text.toLowerCase().startsWith((operand['equals-ignore-case'] as string).toLowerCase())
        : text.startsWith(operand as string);
    case 'suffix':
      if (text === undefined) return false;
      return isObject(operand)
        ? text.toLowerCase().endsWith((operand['equals-ignore-case'] as string).toLowerCase())
        : text.endsWith(operand as string);
    case 'equals-ignore-case': return text !== undefined && text.toLowerCase() === (operand as string).toLowerCase();
    case 'wildcard': return text !== undefined && wildcard(operand as string).test(text);
    case 'numeric': return typeof value === 'number' && numericMatches(operand as Json[], value);
    case 'cidr': return text !== undefined && cidrContains(parseCidr(operand as string)!, text);
    case 'anything-but': return !anythingButExcludes(operand, value);
    default: throw new Error(`unreachable: ${operator} passed validation`);
  }
}

/** Whether `anything-but: operand` rules `value` out. */
function anythingButExcludes(operand: Json, value: Json): boolean {
  if (Array.isArray(operand)) return operand.some((o) => literalEquals(o, value));
  if (isObject(operand)) {
    const [operator] = Object.keys(operand);
    const inner = operand[operator];
    return (Array.isArray(inner) ? inner : [inner]).some((i) => matchValue({ [operator]: i }, value));
  }
  return literalEquals(operand, value);
}

function literalEquals(literal: Json, value: Json): boolean {
  // Numbers compare as numbers (300 matches 3.0e2); a string, boolean or null only matches itself.
  return literal === value;
}

function numericMatches(operand: Json[], value: number): boolean {
  const test = (op: Json, bound: Json) => {
    const b = bound as number;
    switch (op) {
      case '=': return value === b;
      case '<': return value < b;
      case '<=': return value <= b;
      case '>': return value > b;
      default: return value >= b;
    }
  };
  return test(operand[0], operand[1]) && (operand.length === 2 || test(operand[2], operand[3]));
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcard(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') source += '.*';
    else if (c === '\\') source += escapeRegExp(pattern[++i]);
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// --------------------------------------------------------------------------------------------------------- CIDR

interface Cidr { readonly bits: string; readonly prefix: number }

function parseCidr(block: string): Cidr | undefined {
  const [address, prefixText, ...rest] = block.split('/');
  const bits = address === undefined ? undefined : ipBits(address);
  if (!bits || rest.length > 0 || prefixText === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= bits.length ? { bits, prefix } : undefined;
}

function cidrContains(cidr: Cidr, address: string): boolean {
  const bits = ipBits(address);
  return bits !== undefined && bits.length === cidr.bits.length && bits.slice(0, cidr.prefix) === cidr.bits.slice(0, cidr.prefix);
}

/** An IPv4 (32) or IPv6 (128) address as a string of bits, or undefined. */
function ipBits(address: string): string | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? bytes.map((b) => b.toString(2).padStart(8, '0')).join('') : undefined;
  }
  if (!/^[0-9a-fA-F:]+$/.test(address) || address.split('::').length > 2) return undefined;
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

/**
 * Does an EventBridge event match an event pattern? The content filtering of the EventBridge User Guide
 * ("Creating event patterns", "Content filtering in Amazon EventBridge event patterns"), for the patterns the
 * constructs synthesize, so a test can say which events a rule lets through:
 *
 * ```ts
 * const pattern = Template.fromStack(stack).toJSON().Resources[ruleId].Properties.EventPattern;
 * expect(matchesEventPattern(pattern, stoppedTaskEvent)).toBe(true);
 * ```
 *
 * Modelled: field names matched exactly (nested objects recurse), a list of values matched if any one matches, an
 * event array matched if any element matches, literal strings, numbers (numerically), booleans and null, `prefix`,
 * `suffix`, `equals-ignore-case`, `wildcard`, `exists`, `anything-but` (a value, a list, or `prefix` / `suffix` /
 * `wildcard`), and `$or`. Anything else (`numeric`, `cidr`) fails loudly rather than match by accident.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Whether `event` matches `pattern`. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new Error(`An event pattern is a JSON object, got ${JSON.stringify(pattern)}`);
  return matchObject(pattern, event as Json);
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchObject(pattern: { [key: string]: Json }, event: Json | undefined): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) throw new Error(`$or takes a list of at least two patterns, got ${JSON.stringify(sub)}`);
      return sub.some((alternative) => {
        if (!isObject(alternative)) throw new Error(`$or takes patterns (objects), got ${JSON.stringify(alternative)}`);
        return matchObject(alternative, event);
      });
    }
    const value = event[key];
    // A nested pattern against an array of objects matches when any element does.
    if (isObject(sub)) return Array.isArray(value) ? value.some((v) => matchObject(sub, v)) : value !== undefined && matchObject(sub, value);
    if (!Array.isArray(sub)) throw new Error(`Pattern values are lists or objects; ${key} is ${JSON.stringify(sub)}`);
    return matchField(sub, value, key in event);
  });
}

/** A leaf: a list of matchers against one field (absent, a value, or an array of values). */
function matchField(matchers: Json[], value: Json | undefined, present: boolean): boolean {
  if (matchers.length === 0) throw new Error('An empty list of values matches nothing; EventBridge rejects it');
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) {
      if (typeof matcher.exists !== 'boolean') throw new Error(`exists takes true or false, got ${JSON.stringify(matcher.exists)}`);
      // `exists` applies to leaves only: an object there is not a leaf value.
      const isLeaf = present && value !== undefined && !isObject(value);
      return matcher.exists ? isLeaf : !present;
    }
    if (!present || value === undefined) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => matchValue(matcher, v));
  });
}

function matchValue(matcher: Json, value: Json): boolean {
  if (!isObject(matcher)) return literalEquals(matcher, value);
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new Error(`A matcher has one operator, got ${JSON.stringify(matcher)}`);
  const [operator] = keys;
  const operand = matcher[operator];
  switch (operator) {
    case 'prefix': return typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand);
    case 'suffix': return typeof value === 'string' && typeof operand === 'string' && value.endsWith(operand);
    case 'equals-ignore-case': return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard': return typeof value === 'string' && typeof operand === 'string' && wildcard(operand).test(value);
    case 'anything-but': return !anythingButExcludes(operand, value);
    default: throw new Error(`The event pattern operator ${operator} is not modelled here`);
  }
}

/** Whether `anything-but: operand` rules `value` out. */
function anythingButExcludes(operand: Json, value: Json): boolean {
  if (Array.isArray(operand)) return operand.some((o) => literalEquals(o, value));
  if (isObject(operand)) {
    const [operator] = Object.keys(operand);
    if (!['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(operator) || Object.keys(operand).length !== 1) {
      throw new Error(`anything-but takes a value, a list, prefix, suffix, wildcard or equals-ignore-case; got ${JSON.stringify(operand)}`);
    }
    return matchValue(operand, value);
  }
  return literalEquals(operand, value);
}

function literalEquals(literal: Json, value: Json): boolean {
  if (typeof literal === 'number') return typeof value === 'number' && value === literal;
  return literal === value;
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcard(pattern: string): RegExp {
  const source = pattern.split(/(\\\*|\*)/).map((part) => {
    if (part === '*') return '.*';
    if (part === '\\*') return '\\*';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${source}$`, 's');
}

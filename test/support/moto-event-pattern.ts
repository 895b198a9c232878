/**
 * moto's EventBridge pattern matcher (`moto.events.models.EventPattern`, moto 5.2.1 in the machine's python3), an
 * implementation independent of ours (test/support/event-pattern.ts), to check ours against:
 *
 * ```ts
 * const moto = motoEventPatterns(patterns, events);   // one python3 process for every pair
 * moto[0].matches?.[3]  // does patterns[0] match events[3], says moto
 * moto[1].error         // why moto's EventPattern.load refused patterns[1]
 * ```
 *
 * Needs python3 with moto (`pip install moto==5.2.1`); .ci/run checks for it first.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

/** moto's answer for one pattern: why it refused it, or whether it matches each event. */
export interface MotoAnswer {
  readonly error?: string;
  readonly matches?: readonly boolean[];
}

const SCRIPT = path.join(__dirname, 'moto-event-pattern.py');

/** moto's answers for every pattern against every event, in one python3 process. */
export function motoEventPatterns(patterns: readonly unknown[], events: readonly unknown[]): MotoAnswer[] {
  let output: string;
  try {
    output = execFileSync('python3', [SCRIPT], {
      input: JSON.stringify({ patterns, events }),
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e: any) {
    throw new Error(`moto's EventPattern could not run (python3 with moto 5.2.1 is needed: pip install moto==5.2.1): ${e.stderr || e.message}`);
  }
  const { results } = JSON.parse(output) as { moto: string; results: MotoAnswer[] };
  if (results.length !== patterns.length) throw new Error(`moto answered for ${results.length} patterns, not ${patterns.length}`);
  return results;
}

// ------------------------------------------------------------------------------------ where moto is wrong, and why

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A way moto's EventPattern answers differently from EventBridge, with the AWS documentation that settles it. */
export interface MotoDeviation {
  readonly id: string;
  /** What moto does, and what EventBridge does instead. */
  readonly what: string;
  /** Where AWS says what EventBridge does. */
  readonly doc: string;
  /** Whether the deviation can explain a disagreement on this pattern and event. */
  applies(pattern: unknown, event: unknown): boolean;
}

/**
 * Every known way moto 5.2.1 answers differently from EventBridge. A disagreement between our matcher and moto
 * passes only where one of these applies; each is shown by an example in test/support/event-pattern.test.ts.
 */
export const KNOWN_MOTO_DEVIATIONS: readonly MotoDeviation[] = [
  {
    id: 'fields-of-objects-in-arrays',
    what: 'moto does not look into an array of objects, so nested fields never match there; EventBridge matches them in any one element',
    doc: 'https://github.com/aws/event-ruler#arrays (AWS\'s event-ruler, the engine of EventBridge rules: "the array structure is crushed out")',
    applies: (pattern, event) => someField(pattern, event, (sub, value) => isObject(sub) && Array.isArray(value)),
  },
  {
    id: 'python-equality',
    what: 'moto compares values with Python\'s ==, so false matches 0 and true matches 1; EventBridge matches a value exactly',
    doc: 'https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html ("EventBridge uses an exact match in event patterns and rules")',
    applies: (pattern, event) => someField(pattern, event, (sub, value) => Array.isArray(sub)
      && leaves(value).some((v) => sub.some((m) => typeof m !== typeof v && typeof m !== 'object' && Number(m) === Number(v)
        && [m, v].some((x) => typeof x === 'boolean') && [m, v].some((x) => typeof x === 'number')))),
  },
  {
    id: 'exists-on-intermediate-nodes',
    what: 'moto says a field holding objects in an array exists; EventBridge\'s exists sees leaf values only',
    doc: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-exists-matching ("Exists matching only works on leaf nodes. It does not work on intermediate nodes.")',
    applies: (pattern, event) => someField(pattern, event, (sub, value) => Array.isArray(sub)
      && sub.some((m) => isObject(m) && 'exists' in m)
      && Array.isArray(value) && leaves(value).length === 0 && value.flat(Infinity as 1).some(isObject)),
  },
];

/** The deviations that explain a disagreement on this pair (empty: the disagreement is unexplained). */
export function motoDeviationsFor(pattern: unknown, event: unknown): MotoDeviation[] {
  return KNOWN_MOTO_DEVIATIONS.filter((d) => d.applies(pattern, event));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function leaves(value: Json | undefined): Json[] {
  if (value === undefined || isObject(value)) return [];
  return Array.isArray(value) ? value.flatMap(leaves) : [value];
}

/** Whether `test` holds for some field of the pattern and the event's value there (walking `$or` and arrays of objects). */
function someField(pattern: unknown, event: unknown, test: (sub: Json, value: Json | undefined) => boolean): boolean {
  if (!isObject(pattern)) return false;
  const fields = isObject(event) ? event as JsonObject : {};
  return Object.entries(pattern).some(([key, sub]) => {
    if (key === '$or') return Array.isArray(sub) && sub.some((alternative) => someField(alternative, fields, test));
    const value = fields[key];
    if (test(sub, value)) return true;
    if (!isObject(sub)) return false;
    return Array.isArray(value) ? value.some((v) => someField(sub, v, test)) : someField(sub, value, test);
  });
}

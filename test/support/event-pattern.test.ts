/**
 * The event pattern matcher against the EventBridge User Guide: the examples it gives (each with the answer the
 * guide gives, checked against moto's EventPattern too), the patterns EventBridge refuses, and real ECS events
 * from the fixtures.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { InvalidEventPatternError, eventPatternProblems, matchesEventPattern } from './event-pattern';
import { KNOWN_MOTO_DEVIATIONS, motoDeviationsFor, motoEventPatterns } from './moto-event-pattern';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'aws', 'eventbridge-ecs', name), 'utf8'));

const SYNTAX = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html';
const OPERATORS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html';
const ARRAYS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html';
const NULLS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html';
const RULER = 'https://github.com/aws/event-ruler#arrays';

/** A pattern, an event, and whether EventBridge matches them, as the page `doc` says. */
interface Example { readonly name: string; readonly doc: string; readonly pattern: object; readonly event: object; readonly matches: boolean }

const ec2 = (detail: object) => ({ 'source': 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail });

const EXAMPLES: readonly Example[] = [
  { name: 'a value, in a nested field', doc: SYNTAX, pattern: { source: ['aws.ec2'], detail: { state: ['terminated'] } }, event: ec2({ state: 'terminated' }), matches: true },
  { name: 'a field the event lacks', doc: SYNTAX, pattern: { detail: { state: ['terminated'] } }, event: ec2({}), matches: false },
  { name: 'an event array sharing one value', doc: ARRAYS, pattern: { resources: ['arn:a', 'arn:b'] }, event: { resources: ['arn:c', 'arn:b'] }, matches: true },
  { name: 'an event array sharing none', doc: ARRAYS, pattern: { resources: ['arn:a'] }, event: { resources: ['arn:c'] }, matches: false },
  { name: 'null matches null', doc: NULLS, pattern: { detail: { responseElements: [null] } }, event: ec2({ responseElements: null }), matches: true },
  { name: 'an empty string is not null', doc: NULLS, pattern: { detail: { eventVersion: [''] } }, event: ec2({ eventVersion: null }), matches: false },
  { name: 'null is not an empty string', doc: NULLS, pattern: { detail: { eventVersion: [null] } }, event: ec2({ eventVersion: '' }), matches: false },
  { name: 'prefix', doc: OPERATORS, pattern: { time: [{ prefix: '2017-10-02' }] }, event: { time: '2017-10-02T18:43:48Z' }, matches: true },
  { name: 'prefix, ignoring case', doc: OPERATORS, pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, event: { service: 'EventBridge' }, matches: true },
  { name: 'suffix, ignoring case', doc: OPERATORS, pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, event: { service: 'EVENTBRIDGE' }, matches: true },
  { name: 'equals-ignore-case', doc: OPERATORS, pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'ALICE' }, matches: true },
  { name: 'wildcard', doc: OPERATORS, pattern: { FilePath: [{ wildcard: 'dir/*.png' }] }, event: { FilePath: 'dir/a/b.png' }, matches: true },
  { name: 'wildcard, not matching', doc: OPERATORS, pattern: { FilePath: [{ wildcard: 'dir/*.png' }] }, event: { FilePath: 'dir/a.jpg' }, matches: false },
  { name: 'wildcard, an escaped star is a star', doc: OPERATORS, pattern: { f: [{ wildcard: 'a\\*b' }] }, event: { f: 'axb' }, matches: false },
  { name: 'anything-but a value', doc: OPERATORS, pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2({ state: 'running' }), matches: true },
  { name: 'anything-but, the value itself', doc: OPERATORS, pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2({ state: 'initializing' }), matches: false },
  { name: 'anything-but, the field absent', doc: SYNTAX, pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2({}), matches: false },
  { name: 'anything-but a list of numbers', doc: OPERATORS, pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: ec2({ 'x-limit': 200 }), matches: false },
  { name: 'anything-but a prefix', doc: OPERATORS, pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: ec2({ state: 'initializing' }), matches: false },
  { name: 'anything-but a suffix', doc: OPERATORS, pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.txt' }, matches: true },
  { name: 'anything-but a wildcard', doc: OPERATORS, pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: 'src/lib/a.js' }, matches: false },
  { name: 'anything-but ignoring case', doc: OPERATORS, pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'INITIALIZING' }, matches: false },
  { name: 'numeric, in range', doc: OPERATORS, pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: ec2({ 'c-count': 5 }), matches: true },
  { name: 'numeric, out of range', doc: OPERATORS, pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: ec2({ 'c-count': 6 }), matches: false },
  { name: 'numeric, a string is not a number', doc: OPERATORS, pattern: { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, event: ec2({ 'c-count': '3' }), matches: false },
  { name: 'numeric equals', doc: OPERATORS, pattern: { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, event: ec2({ 'x-limit': 301.8 }), matches: true },
  { name: 'cidr', doc: OPERATORS, pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: ec2({ sourceIPAddress: '10.0.0.255' }), matches: true },
  { name: 'cidr, outside', doc: OPERATORS, pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: ec2({ sourceIPAddress: '10.0.1.0' }), matches: false },
  { name: 'cidr, IPv6', doc: OPERATORS, pattern: { ip: [{ cidr: '2001:db8::/32' }] }, event: { ip: '2001:db8:0:1::5' }, matches: true },
  { name: 'exists: true', doc: OPERATORS, pattern: { detail: { 'c-count': [{ exists: true }] } }, event: ec2({ 'c-count': 3 }), matches: true },
  { name: 'exists: false, the field absent', doc: OPERATORS, pattern: { detail: { 'c-count': [{ exists: false }] } }, event: ec2({ state: 'running' }), matches: true },
  { name: 'exists: false, an object there ("c-count isn\'t a leaf node")', doc: OPERATORS, pattern: { detail: { 'c-count': [{ exists: false }] } }, event: ec2({ 'c-count': { c1: 100 } }), matches: true },
  { name: 'exists: true, an object there', doc: OPERATORS, pattern: { detail: { 'c-count': [{ exists: true }] } }, event: ec2({ 'c-count': { c1: 100 } }), matches: false },
  { name: 'exists: true, objects in an array there', doc: OPERATORS, pattern: { detail: { containers: [{ exists: true }] } }, event: ec2({ containers: [{ name: 'web' }] }), matches: false },
  { name: 'exists: true, null is a value', doc: NULLS, pattern: { detail: { responseElements: [{ exists: true }] } }, event: ec2({ responseElements: null }), matches: true },
  { name: '$or, the second branch', doc: OPERATORS, pattern: { detail: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] } }, event: ec2({ Day: 'Monday' }), matches: true },
  { name: '$or, no branch', doc: OPERATORS, pattern: { detail: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] } }, event: ec2({ Day: 'Tuesday' }), matches: false },
  { name: 'a boolean is not a number', doc: 'https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html', pattern: { detail: { agentConnected: [false] } }, event: ec2({ agentConnected: 0 }), matches: false },
  { name: 'nested fields in one element of an array of objects', doc: RULER, pattern: { employees: { firstName: ['Anna'] } }, event: { employees: [{ firstName: 'John' }, { firstName: 'Anna' }] }, matches: true },
  { name: 'nested fields from two elements of an array of objects', doc: RULER, pattern: { employees: { firstName: ['Anna'], lastName: ['Doe'] } }, event: { employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }] }, matches: false },
];

/** A pattern EventBridge refuses, and what our check says about it. */
interface Refused { readonly name: string; readonly pattern: unknown; readonly problem: RegExp; readonly motoRefuses: boolean }

const REFUSED: readonly Refused[] = [
  { name: 'an empty detail', pattern: { 'source': ['aws.ecs'], 'detail-type': ['ECS Service Action'], 'detail': {} }, problem: /^detail is an empty object/, motoRefuses: false },
  { name: 'an empty pattern', pattern: {}, problem: /^the pattern is an empty object/, motoRefuses: false },
  { name: 'an empty object deeper', pattern: { detail: { requestParameters: {} } }, problem: /^detail\.requestParameters is an empty object/, motoRefuses: false },
  { name: 'an empty object in $or', pattern: { detail: { $or: [{}, { a: ['1'] }] } }, problem: /^detail\.\$or\[0\] is an empty object/, motoRefuses: false },
  { name: 'an empty list', pattern: { source: [] }, problem: /^source is an empty list/, motoRefuses: true },
  { name: 'a value that is not a list', pattern: { source: 'aws.ecs' }, problem: /^source is "aws.ecs": a field's value is an object .* or a list/, motoRefuses: true },
  { name: 'a list in a list', pattern: { source: [['aws.ecs']] }, problem: /^source\[0\] is a list/, motoRefuses: false },
  { name: 'an unknown operator', pattern: { source: [{ contains: 'ecs' }] }, problem: /^source\[0\]: contains is not an EventBridge operator/, motoRefuses: false },
  { name: 'two operators in one object', pattern: { source: [{ prefix: 'aws.', suffix: 'ecs' }] }, problem: /exactly one operator/, motoRefuses: false },
  { name: 'an empty operator object', pattern: { source: [{}] }, problem: /exactly one operator/, motoRefuses: false },
  { name: 'prefix of a number', pattern: { source: [{ prefix: 1 }] }, problem: /prefix takes a string/, motoRefuses: false },
  { name: 'suffix of an unknown object', pattern: { source: [{ suffix: { 'ignore-case': 'x' } }] }, problem: /suffix takes a string or \{ "equals-ignore-case": string \}/, motoRefuses: false },
  { name: 'exists with a string', pattern: { detail: { stopCode: [{ exists: 'false' }] } }, problem: /exists takes true or false/, motoRefuses: false },
  { name: 'consecutive wildcards', pattern: { resources: [{ wildcard: 'arn:**' }] }, problem: /consecutive wildcard characters/, motoRefuses: false },
  { name: 'a backslash escaping a letter in a wildcard', pattern: { resources: [{ wildcard: 'arn:\\a*' }] }, problem: /a backslash that escapes neither/, motoRefuses: false },
  { name: 'anything-but a mixed list', pattern: { detail: { x: [{ 'anything-but': ['a', 1] }] } }, problem: /strings only or numbers only/, motoRefuses: false },
  { name: 'anything-but an empty list', pattern: { detail: { x: [{ 'anything-but': [] }] } }, problem: /anything-but: an empty list/, motoRefuses: false },
  { name: 'anything-but null', pattern: { detail: { x: [{ 'anything-but': null }] } }, problem: /anything-but takes a string, a number, a list/, motoRefuses: false },
  { name: 'anything-but an unknown operator', pattern: { detail: { x: [{ 'anything-but': { exists: true } }] } }, problem: /anything-but takes a value, a list, or one of prefix/, motoRefuses: false },
  { name: 'anything-but an empty prefix', pattern: { detail: { x: [{ 'anything-but': { prefix: '' } }] } }, problem: /prefix is empty/, motoRefuses: false },
  { name: 'numeric with an unknown operator', pattern: { detail: { x: [{ numeric: ['!=', 3] }] } }, problem: /numeric takes/, motoRefuses: false },
  { name: 'numeric with a string bound', pattern: { detail: { x: [{ numeric: ['>', '3'] }] } }, problem: /numeric takes/, motoRefuses: false },
  { name: 'numeric with an upper bound first', pattern: { detail: { x: [{ numeric: ['<', 5, '>', 1] }] } }, problem: /numeric takes/, motoRefuses: false },
  { name: 'cidr that is not a block', pattern: { detail: { ip: [{ cidr: '10.0.0.0/33' }] } }, problem: /cidr takes an IPv4 or IPv6 CIDR block/, motoRefuses: false },
  { name: '$or with one branch', pattern: { detail: { $or: [{ a: ['1'] }] } }, problem: /\$or takes a list of at least two objects/, motoRefuses: false },
  { name: '$or of values', pattern: { detail: { $or: ['a', 'b'] } }, problem: /\$or takes a list of at least two objects/, motoRefuses: false },
  { name: 'an operator as a field name in $or', pattern: { detail: { $or: [{ prefix: ['a'] }, { b: ['1'] }] } }, problem: /prefix is an operator, not a field name/, motoRefuses: false },
  {
    name: 'a field both beside and inside $or',
    pattern: { detail: { eventName: ['RunTask', 'StopTask'], $or: [{ eventName: ['StopTask'] }, { errorCode: [{ exists: true }] }] } },
    problem: /^detail\.eventName is named more than once in one branch of \$or/,
    motoRefuses: false,
  },
  // moto fails on it (AttributeError) rather than refuses it.
  { name: 'not an object', pattern: ['aws.ecs'], problem: /^an event pattern is a JSON object/, motoRefuses: true },
];

describe('the User Guide\'s examples', () => {
  test.each(EXAMPLES)('$name: $matches', ({ pattern, event, matches }) => {
    expect(matchesEventPattern(pattern, event)).toBe(matches);
  });

  test('moto agrees on every example, but where a known deviation of moto\'s applies', () => {
    const answers = motoEventPatterns(EXAMPLES.map((e) => e.pattern), EXAMPLES.map((e) => e.event));

    const wrong = EXAMPLES.filter((e, i) => answers[i].matches?.[i] !== e.matches);
    const unexplained = wrong.filter((e) => motoDeviationsFor(e.pattern, e.event).length === 0);
    const explained = wrong.flatMap((e) => motoDeviationsFor(e.pattern, e.event).map((d) => d.id));
    expect(unexplained.map((e) => e.name)).toEqual([]);
    // Each known deviation shows here, so the list stays as narrow as what moto really gets wrong.
    expect([...new Set(explained)].sort()).toEqual(KNOWN_MOTO_DEVIATIONS.map((d) => d.id).sort());
  });
});

describe('patterns EventBridge refuses', () => {
  test.each(REFUSED)('fails on $name', ({ pattern, problem }) => {
    const problems = eventPatternProblems(pattern);

    expect(problems).toEqual([expect.stringMatching(problem)]);
    expect(() => matchesEventPattern(pattern, fixture('service-action-steady-state.json'))).toThrow(InvalidEventPatternError);
  });

  test('fails on every mistake at once, each with its path', () => {
    const problems = eventPatternProblems({ source: [], detail: { lastStatus: 'STOPPED', group: [{ contains: 'api' }], overrides: {} } });

    expect(problems).toEqual([
      expect.stringMatching(/^source is an empty list/),
      expect.stringMatching(/^detail\.lastStatus is "STOPPED"/),
      expect.stringMatching(/^detail\.group\[0\]: contains is not an EventBridge operator/),
      expect.stringMatching(/^detail\.overrides is an empty object/),
    ]);
  });

  test('moto\'s EventPattern.load refuses only empty lists, values that are not lists and patterns that are not objects', () => {
    const answers = motoEventPatterns(REFUSED.map((r) => r.pattern), []);

    expect(REFUSED.filter((r, i) => (answers[i].error !== undefined) !== r.motoRefuses).map((r) => r.name)).toEqual([]);
  });

  test('every example of the User Guide is a pattern EventBridge accepts', () => {
    expect(EXAMPLES.flatMap((e) => eventPatternProblems(e.pattern).map((p) => `${e.name}: ${p}`))).toEqual([]);
  });
});

describe('matchesEventPattern, on ECS events', () => {
  const stopped = fixture('task-state-change-ec2-stopped-user-initiated.json');
  const running = fixture('task-state-change-ec2-running-2025.json');

  test('matches exact values, any of a list, in nested objects', () => {
    const pattern = { 'source': ['aws.ecs'], 'detail-type': ['ECS Task State Change'], 'detail': { lastStatus: ['STOPPED', 'DEPROVISIONING'] } };
    expect(matchesEventPattern(pattern, stopped)).toBe(true);
    expect(matchesEventPattern(pattern, running)).toBe(false);
  });

  test('a field the pattern names must be in the event, unless it asks for exists: false', () => {
    expect(matchesEventPattern({ detail: { stopCode: ['UserInitiated'] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ 'anything-but': 'UserInitiated' }] } }, running)).toBe(false);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: false }] } }, running)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: true }] } }, stopped)).toBe(true);
    // exists applies to leaves: an object is not one, so it "does not exist"
    expect(matchesEventPattern({ detail: { overrides: [{ exists: true }] } }, stopped)).toBe(false);
    expect(matchesEventPattern({ detail: { overrides: [{ exists: false }] } }, stopped)).toBe(true);
    // a field under a missing object is missing too
    expect(matchesEventPattern({ detail: { requestParameters: { cluster: [{ exists: false }] } } }, stopped)).toBe(true);
  });

  test('prefix, suffix, wildcard and anything-but (values, lists, prefix)', () => {
    expect(matchesEventPattern({ detail: { clusterArn: [{ prefix: 'arn:aws:ecs:eu-west-1:' }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { group: [{ suffix: ':Webapp' }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ resources: [{ wildcard: 'arn:aws:ecs:*:task/Features/*' }] }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { stoppedReason: [{ 'anything-but': { prefix: 'Task stopped' } }] } }, stopped)).toBe(false);
    expect(matchesEventPattern({ detail: { stoppedReason: [{ 'anything-but': { prefix: 'Scaling activity initiated by' } }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { lastStatus: [{ 'anything-but': ['STOPPED', 'RUNNING'] }] } }, stopped)).toBe(false);
  });

  test('an event array matches when any element does; numbers compare as numbers', () => {
    expect(matchesEventPattern({ detail: { containers: { exitCode: [0] } } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { containers: { name: ['web'] } } }, running)).toBe(true);
    expect(matchesEventPattern({ detail: { version: [7] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { version: ['7'] } }, stopped)).toBe(false);
    expect(matchesEventPattern({ detail: { version: [{ numeric: ['>=', 7] }] } }, stopped)).toBe(true);
  });

  test('$or matches when any of its patterns does', () => {
    const pattern = {
      detail: {
        $or: [
          { stoppedReason: [{ exists: false }] },
          { stoppedReason: [{ 'anything-but': { prefix: 'Scaling activity initiated by' } }] },
        ],
      },
    };
    expect(matchesEventPattern(pattern, stopped)).toBe(true);
    expect(matchesEventPattern(pattern, running)).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)' } })).toBe(false);
  });
});

/**
 * Every EventBridge rule pattern the constructs synthesize (every rule of every documented configuration, and
 * EcsParrot's patterns over every combination of what they depend on) is one EventBridge accepts, and for every
 * event of the corpus (the EventBridge and CloudTrail fixtures, and the ECS events the EcsParrot tests build) our
 * matcher (test/support/event-pattern.ts) and moto's EventPattern, an independent implementation, give the same
 * answer. moto runs once for the whole file.
 */
import * as cdk from 'aws-cdk-lib';
import { corpus } from '../ecs-parrot/support/corpus';
import { cloudTrailFixtures, wrapCloudTrailRecord } from '../ecs-parrot/support/events';
import { patternCombinations } from '../ecs-parrot/support/pattern-combinations';
import { ACCOUNT, DOCUMENTED_CONFIGURATIONS, REGION } from '../support/documented-configurations';
import { eventPatternProblems, matchesEventPattern } from '../support/event-pattern';
import { IntrinsicResolver } from '../support/iam';
import { MODULES } from '../support/modules';
import { motoDeviationsFor, motoEventPatterns } from '../support/moto-event-pattern';

/** Each distinct pattern once, with every place it came from. */
function distinctPatterns(): Array<{ pattern: unknown; from: string[] }> {
  const byJson = new Map<string, { pattern: unknown; from: string[] }>();
  const add = (pattern: unknown, from: string) => {
    const key = JSON.stringify(pattern);
    const known = byJson.get(key);
    if (known) known.from.push(from);
    else byJson.set(key, { pattern, from: [from] });
  };
  for (const { name, build } of DOCUMENTED_CONFIGURATIONS) {
    const stack = new cdk.Stack(new cdk.App(), 'UserStack', { env: { account: ACCOUNT, region: REGION } });
    build(stack, MODULES);
    const template = cdk.assertions.Template.fromStack(stack).toJSON();
    const resolver = new IntrinsicResolver(template, { account: ACCOUNT, region: REGION });
    for (const [id, resource] of Object.entries<any>(template.Resources)) {
      if (resource.Type === 'AWS::Events::Rule' && resource.Properties.EventPattern !== undefined) {
        add(resolver.resolve(resource.Properties.EventPattern, id), `${name}: ${id}`);
      }
    }
  }
  for (const { name, patterns } of patternCombinations()) {
    for (const [id, pattern] of Object.entries(patterns)) add(pattern, `EcsParrot patterns, ${name}: ${id}`);
  }
  return [...byJson.values()];
}

function events(): Array<{ name: string; event: unknown }> {
  return [
    ...corpus(),
    ...cloudTrailFixtures().map(({ name, record }) => ({ name: `cloudtrail-ecs/${name}, in EventBridge's envelope`, event: wrapCloudTrailRecord(record) })),
  ];
}

describe('the synthesized rule patterns against the event corpus', () => {
  const patterns = distinctPatterns();
  const corpusEvents = events();
  const moto = motoEventPatterns(patterns.map((p) => p.pattern), corpusEvents.map((e) => e.event));

  test(`compares ${patterns.length} patterns with ${corpusEvents.length} events`, () => {
    expect(moto.every((m) => m.matches?.length === corpusEvents.length)).toBe(true);
  });

  test('there are patterns from the documented configurations and the combinations, and events of every kind', () => {
    expect(patterns.filter((p) => p.from.some((f) => !f.startsWith('EcsParrot patterns'))).length).toBeGreaterThanOrEqual(15);
    expect(patterns.length).toBeGreaterThanOrEqual(60);
    expect(corpusEvents.length).toBeGreaterThanOrEqual(100);
    const detailTypes = new Set(corpusEvents.map((e) => (e.event as any)['detail-type']));
    expect([...detailTypes].sort()).toEqual([
      'AWS API Call via CloudTrail', 'ECS Container Instance State Change', 'ECS Deployment State Change', 'ECS Service Action', 'ECS Task State Change',
    ]);
  });

  test('every pattern is one EventBridge accepts, and moto loads it', () => {
    expect(patterns.flatMap(({ pattern, from }) => eventPatternProblems(pattern).map((problem) => `${from[0]}: ${problem}`))).toEqual([]);
    expect(patterns.flatMap(({ from }, i) => (moto[i].error ? [`${from[0]}: ${moto[i].error}`] : []))).toEqual([]);
  });

  test('our matcher and moto agree on every pattern and event', () => {
    const disagreements: string[] = [];
    const explained: string[] = [];
    patterns.forEach(({ pattern, from }, i) => corpusEvents.forEach(({ name, event }, j) => {
      const ours = matchesEventPattern(pattern, event);
      if (ours === moto[i].matches![j]) return;
      const deviations = motoDeviationsFor(pattern, event);
      const line = `${from[0]} (${from.length} in all) against ${name}: ours ${ours}, moto ${moto[i].matches![j]}`;
      if (deviations.length > 0) explained.push(`${line} (${deviations.map((d) => d.id).join(', ')})`);
      else disagreements.push(line);
    }));

    expect(disagreements).toEqual([]);
    // The constructs' patterns use nothing moto is known to get wrong (test/support/moto-event-pattern.ts).
    expect(explained).toEqual([]);
  });

  test('the patterns let events through and hold others back (the comparison is not all one answer)', () => {
    const answers = moto.flatMap((m) => m.matches ?? []);
    expect(answers.filter(Boolean).length).toBeGreaterThan(100);
    expect(answers.filter((a) => !a).length).toBeGreaterThan(100);
  });
});

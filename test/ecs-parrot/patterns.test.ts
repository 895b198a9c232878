/**
 * EcsParrot's rule patterns are ones EventBridge accepts, whatever the props: never an empty object or list
 * (EventBridge refuses them: "Empty objects are not allowed"), over every combination of what the patterns
 * depend on, and through the construct for each severity.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ACCOUNT, REGION } from './support/events';
import { patternCombinations } from './support/pattern-combinations';
import { EcsParrot, NotificationChannel, Severity } from '../../src';
import { eventPatternProblems } from '../support/event-pattern';
import { IntrinsicResolver } from '../support/iam';

/** The paths of every empty object and empty list in `value`. */
function emptyContainers(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((v, i) => emptyContainers(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0 ? [path || '(the pattern)'] : entries.flatMap(([k, v]) => emptyContainers(v, path ? `${path}.${k}` : k));
  }
  return [];
}

describe('over every combination of kinds, API calls, severity, clusters, draining and services', () => {
  const combinations = patternCombinations();

  test('there are 4,608 combinations, with 11,904 rule patterns', () => {
    expect(combinations.length).toBe(16 * 4 * 3 * 3 * 2 * 4);
    // Per severity, API call list, clusters, draining and services, over the 16 subsets of kinds: each kind is in
    // 8 subsets (the container instance rule not at ERROR), and an API call rule is in all 16 when there are calls.
    const perRest = [0, 1, 1, 1].reduce((sum, calls) => sum + (8 * 3 + 8) * 2 + 8 * 3 + calls * 16 * 3, 0);
    expect(combinations.flatMap((c) => Object.keys(c.patterns)).length).toBe(perRest * 3 * 2 * 4);
  });

  test('no rule pattern has an empty object or an empty list', () => {
    const empty = combinations.flatMap(({ name, patterns }) =>
      Object.entries(patterns).flatMap(([id, pattern]) => emptyContainers(pattern).map((where) => `${name} ${id}: ${where}`)));

    expect(empty).toEqual([]);
  });

  test('every rule pattern is one EventBridge accepts', () => {
    const refused = combinations.flatMap(({ name, patterns }) =>
      Object.entries(patterns).flatMap(([id, pattern]) => eventPatternProblems(pattern).map((problem) => `${name} ${id}: ${problem}`)));

    expect(refused).toEqual([]);
  });
});

describe('through the construct', () => {
  function rulePatterns(props: { minimumSeverity: Severity; clusters: boolean; includeApiCalls: boolean }) {
    const stack = new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
    const slack = NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'));
    new EcsParrot(stack, 'Parrot', {
      notifications: [slack],
      minimumSeverity: props.minimumSeverity,
      clusters: props.clusters ? [ecs.Cluster.fromClusterArn(stack, 'Prod', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)] : undefined,
      includeApiCalls: props.includeApiCalls || undefined,
    });
    const template = Template.fromStack(stack).toJSON();
    const resolver = new IntrinsicResolver(template, { account: ACCOUNT, region: REGION });
    return Object.fromEntries(Object.entries<any>(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Events::Rule')
      .map(([id, r]) => [id, resolver.resolve(r.Properties.EventPattern, id)]));
  }

  const cases = Object.values(Severity).flatMap((minimumSeverity) => [false, true].flatMap((clusters) =>
    // API calls are reported as INFO or WARNING: the construct refuses them at ERROR.
    (minimumSeverity === Severity.ERROR ? [false] : [false, true]).map((includeApiCalls) => ({ minimumSeverity, clusters, includeApiCalls }))));

  test.each(cases)('minimumSeverity $minimumSeverity, clusters $clusters, includeApiCalls $includeApiCalls: every pattern is valid, none has an empty object or list', (props) => {
    const patterns = rulePatterns(props);

    expect(Object.keys(patterns).length).toBeGreaterThanOrEqual(3);
    expect(Object.entries(patterns).flatMap(([id, p]) => emptyContainers(p).map((where) => `${id}: ${where}`))).toEqual([]);
    expect(Object.entries(patterns).flatMap(([id, p]) => eventPatternProblems(p).map((problem) => `${id}: ${problem}`))).toEqual([]);
  });

  test('at INFO for every cluster, the service actions rule narrows by source and type only (no "detail": {})', () => {
    const patterns = rulePatterns({ minimumSeverity: Severity.INFO, clusters: false, includeApiCalls: false });

    const serviceActions = Object.entries(patterns).find(([id]) => id.startsWith('ParrotServiceActionsRule'))?.[1];
    expect(serviceActions).toEqual({ 'source': ['aws.ecs'], 'detail-type': ['ECS Service Action'] });
  });
});

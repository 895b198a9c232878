/**
 * Every combination of what EcsParrot's rule patterns depend on (src/ecs-parrot/patterns.ts): the kinds of event
 * turned on, the API calls, `minimumSeverity`, none, one or two `clusters`, `instanceDraining` and the services
 * included or excluded; and the patterns each gives, resolved as CloudFormation would in 123456789012/us-east-1.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import { ACCOUNT, REGION } from './events';
import { EventKindName, PatternOptions, eventPatterns } from '../../../src/ecs-parrot/patterns';
import { DEFAULT_API_CALLS } from '../../../src/ecs-parrot/vocabulary';
import { IntrinsicResolver } from '../../support/iam';

const KINDS: EventKindName[] = ['TASK_STOPPED', 'DEPLOYMENT', 'SERVICE_ACTION', 'CONTAINER_INSTANCE'];

/** No API calls; the default list; only calls reported as INFO; only destructive ones. */
const API_CALLS: ReadonlyArray<[string, readonly string[]]> = [
  ['none', []], ['the default list', DEFAULT_API_CALLS], ['RunTask+UpdateService', ['RunTask', 'UpdateService']], ['StopTask+ExecuteCommand', ['StopTask', 'ExecuteCommand']],
];

const SERVICES: ReadonlyArray<{ include: string[]; exclude: string[] }> = [
  { include: [], exclude: [] },
  { include: ['api'], exclude: [] },
  { include: ['api', 'worker'], exclude: [] },
  { include: [], exclude: ['canary'] },
];

export interface PatternCombination {
  /** What was combined, for test names. */
  readonly name: string;
  readonly options: PatternOptions;
  /** The rules' patterns, by rule id, resolved (no tokens left). */
  readonly patterns: Record<string, unknown>;
}

/** Every combination (4,608), with its resolved patterns. */
export function patternCombinations(): PatternCombination[] {
  const stack = new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const clusters = ['prod', 'batch'].map((name) => ecs.Cluster.fromClusterArn(stack, name, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`));
  const resolver = new IntrinsicResolver({ Resources: {} }, { account: ACCOUNT, region: REGION });
  const out: PatternCombination[] = [];
  const subsets = KINDS.reduce<EventKindName[][]>((all, kind) => [...all, ...all.map((s) => [...s, kind])], [[]]);
  for (const kinds of subsets) {
    for (const [callsName, apiCalls] of API_CALLS) {
      for (const minimumSeverity of ['INFO', 'WARNING', 'ERROR']) {
        for (const clusterCount of [0, 1, 2]) {
          for (const instanceDraining of [true, false]) {
            for (const services of SERVICES) {
              const options: PatternOptions = {
                kinds: [...kinds, ...(apiCalls.length > 0 ? ['API_CALL' as const] : [])],
                clusters: clusters.slice(0, clusterCount),
                minimumSeverity,
                instanceDraining,
                apiCalls,
                servicesInclude: services.include,
                servicesExclude: services.exclude,
              };
              const name = `kinds ${kinds.join('+') || 'none'}, API calls ${callsName}, ${minimumSeverity}, `
                + `${clusterCount} clusters, draining ${instanceDraining}, services ${JSON.stringify(services)}`;
              const patterns = Object.fromEntries(eventPatterns(options, stack)
                .map((p) => [p.id, resolver.resolve(stack.resolve(rendered(p.pattern)), `${name} ${p.id}`)]));
              out.push({ name, options, patterns });
            }
          }
        }
      }
    }
  }
  return out;
}

/** The pattern as events.Rule renders it into the template: `detailType` is `detail-type`. */
function rendered(pattern: events.EventPattern): Record<string, unknown> {
  return Object.fromEntries(Object.entries(pattern).map(([key, value]) => [key === 'detailType' ? 'detail-type' : key, value]));
}

import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import { DESTRUCTIVE_API_CALLS, ROLLBACK_REASON, SCALE_IN_REASON_PREFIX } from './vocabulary';

/** The kinds of event, as the handler's `EVENT_KINDS` names them. */
export type EventKindName = 'TASK_STOPPED' | 'DEPLOYMENT' | 'SERVICE_ACTION' | 'CONTAINER_INSTANCE' | 'API_CALL';

/** What the patterns narrow by (the handler checks all of it again). */
export interface PatternOptions {
  readonly kinds: readonly EventKindName[];
  readonly clusters: readonly ecs.ICluster[];
  /** `INFO`, `WARNING` or `ERROR`. */
  readonly minimumSeverity: string;
  readonly instanceDraining: boolean;
  readonly apiCalls: readonly string[];
  readonly servicesInclude: readonly string[];
  readonly servicesExclude: readonly string[];
}

export interface RulePattern {
  /** The rule's id suffix, e.g. `Tasks`. */
  readonly id: string;
  readonly description: string;
  readonly pattern: events.EventPattern;
}

/**
 * One pattern per kind of event that can be worth a message at the minimum severity, narrowed to the clusters,
 * the services and the interesting subset, so most of ECS's event stream never reaches the queue.
 *
 * Each pattern must match every event the handler would report (test/ecs-parrot/construct.test.ts checks it
 * against the classification cases): where a field may be missing, `$or` keeps the event.
 */
export function eventPatterns(o: PatternOptions, stack: Stack): RulePattern[] {
  const warnings = o.minimumSeverity !== 'INFO';
  const clusterArns = o.clusters.map((c) => c.clusterArn);
  const byCluster = clusterArns.length > 0 ? { clusterArn: clusterArns } : {};
  const out: RulePattern[] = [];

  if (o.kinds.includes('TASK_STOPPED')) {
    const group = o.servicesInclude.length > 0
      ? { group: o.servicesInclude.map((s) => `service:${s}`) }
      : o.servicesExclude.length > 0 ? { group: [{ 'anything-but': o.servicesExclude.map((s) => `service:${s}`) }] } : {};
    out.push({
      id: 'Tasks',
      description: 'ECS tasks that stopped',
      pattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          lastStatus: ['STOPPED'],
          ...byCluster,
          ...group,
          // Below INFO, a scale-in (a deployment replacing tasks, or auto scaling) and a user's stop are never reported.
          ...(warnings ? {
            $or: [
              ...[[{ exists: false }], [{ 'anything-but': 'UserInitiated' }]].flatMap((stopCode) =>
                [[{ exists: false }], [{ 'anything-but': { prefix: SCALE_IN_REASON_PREFIX } }]].map((stoppedReason) => ({ stopCode, stoppedReason }))),
            ],
          } : {}),
        },
      },
    });
  }

  if (o.kinds.includes('DEPLOYMENT')) {
    const services = serviceResources(o, stack, 'DEPLOYMENT');
    out.push({
      id: 'Deployments',
      description: warnings ? 'ECS service deployments that failed or roll back' : 'ECS service deployments',
      pattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        ...(services ? { resources: services } : {}),
        ...(warnings ? {
          detail: {
            $or: [
              { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
              { eventType: ['ERROR'] },
              { eventName: ['SERVICE_DEPLOYMENT_IN_PROGRESS'], reason: [{ wildcard: `*${ROLLBACK_REASON}*` }] },
            ],
          },
        } : {}),
      },
    });
  }

  if (o.kinds.includes('SERVICE_ACTION')) {
    const eventType = o.minimumSeverity === 'ERROR' ? ['ERROR'] : o.minimumSeverity === 'WARNING' ? ['WARN', 'ERROR'] : undefined;
    const services = serviceResources(o, stack, 'SERVICE_ACTION');
    out.push({
      id: 'ServiceActions',
      description: `ECS service actions${eventType ? ` (${eventType.join(', ')})` : ''}`,
      pattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Service Action'],
        ...(services ? { resources: services } : {}),
        // At INFO for every cluster, nothing in detail narrows: EventBridge rejects an empty `detail: {}`.
        ...withDetail({ ...byCluster, ...(eventType ? { eventType } : {}) }),
      },
    });
  }

  // Container instance findings are never ERROR.
  if (o.kinds.includes('CONTAINER_INSTANCE') && o.minimumSeverity !== 'ERROR') {
    const statuses = ['REGISTRATION_FAILED', ...(o.instanceDraining ? ['DRAINING', 'INACTIVE'] : [])];
    out.push({
      id: 'ContainerInstances',
      description: 'ECS container instances whose agent disconnected or failed to update, or that drain or leave',
      pattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Container Instance State Change'],
        detail: {
          ...byCluster,
          $or: [{ status: statuses }, { agentConnected: [false] }, { agentUpdateStatus: ['FAILED'] }],
        },
      },
    });
  }

  if (o.kinds.includes('API_CALL') && o.apiCalls.length > 0) {
    // Below INFO, only failed calls and destructive ones are reported.
    const destructive = o.apiCalls.filter((a) => DESTRUCTIVE_API_CALLS.includes(a));
    out.push({
      id: 'ApiCalls',
      description: warnings ? 'ECS API calls that failed or remove, stop or open a shell into something' : 'ECS API calls',
      pattern: {
        source: ['aws.ecs'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ecs.amazonaws.com'],
          // The calls named once per branch: a field both beside and inside `$or` has no documented meaning
          // (EventBridge's rule engine lets the inner one override the outer one).
          ...(!warnings
            ? { eventName: [...o.apiCalls] }
            : destructive.length > 0
              ? { $or: [{ eventName: destructive }, { eventName: [...o.apiCalls], errorCode: [{ exists: true }] }] }
              : { eventName: [...o.apiCalls], errorCode: [{ exists: true }] }),
        },
      },
    });
  }
  return out;
}

/** `{ detail }`, or nothing when `detail` is empty: EventBridge rejects an empty object anywhere in a pattern. */
function withDetail(detail: { [key: string]: any }): Pick<events.EventPattern, 'detail'> {
  return Object.keys(detail).length > 0 ? { detail } : {};
}

/**
 * The `resources` of service events to match, or undefined for any.
 *
 * A service created before 2021 may still have the older ARN `service/<name>`, which names no cluster (ECS can
 * migrate it to the long ARN `service/<cluster>/<name>`). Such services must not be missed:
 * - named services: their long ARNs in the clusters and their short ARNs, or any ARN ending `/<name>`;
 * - every service of the clusters: a service action carries `detail.clusterArn`, which the pattern already narrows
 *   by; a deployment event carries the cluster only in a long ARN, so the clusters' service ARN prefixes, plus every
 *   short ARN (the handler reports those without a cluster).
 */
function serviceResources(o: PatternOptions, stack: Stack, kind: 'DEPLOYMENT' | 'SERVICE_ACTION'): string[] | undefined {
  const serviceArn = (resourceName: string) => stack.formatArn({ service: 'ecs', resource: 'service', resourceName });
  const any = (matchers: any[][]) => (matchers.length === 1 ? matchers[0] : events.Match.anyOf(...matchers));
  if (o.servicesInclude.length > 0) {
    return o.clusters.length > 0
      ? [...o.clusters.flatMap((c) => o.servicesInclude.map((s) => serviceArn(`${c.clusterName}/${s}`))), ...o.servicesInclude.map((s) => serviceArn(s))]
      : any(o.servicesInclude.map((s) => events.Match.suffix(`/${s}`)));
  }
  if (o.clusters.length === 0 || kind === 'SERVICE_ACTION') return undefined;
  return any([
    ...o.clusters.map((c) => events.Match.prefix(serviceArn(`${c.clusterName}/`))),
    [{ 'anything-but': { wildcard: serviceArn('*/*') } }],
  ]);
}

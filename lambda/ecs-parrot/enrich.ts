/**
 * Enrichment: what the events do not say. For stopped tasks, the task definition (which containers are essential,
 * where `awslogs` writes their logs) and the container instance (its EC2 instance, and whether it is draining);
 * for container instance events, whether the agent is still disconnected.
 *
 * Each task definition and each container instance is described once per invocation, container instances in
 * batches of 100 per cluster; a task definition revision is immutable, so it is also kept for the container's
 * life. Enrichment is optional: a failed call is logged and counted, and the message goes out without what it
 * would have added.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ContainerFacts, EventFacts, InstanceFacts, TaskDefinitionFacts } from './core';
import type { ParrotEvent } from './events';
import { clientConfig, DESCRIBE_BATCH_MAX, describeError, describeInBatches, lazy, settleWithConcurrency } from '../common/aws';

const ecs = lazy(async () => {
  const sdk = await import('./clients/ecs');
  return { sdk, client: new sdk.ECSClient(clientConfig()) };
});

/** Calls in flight at once. */
const CONCURRENCY = 4;
/** Task definition revisions kept between invocations. */
const KEPT_TASK_DEFINITIONS = 200;
const taskDefinitionCache = new Map<string, TaskDefinitionFacts>();

export interface Enrichment {
  /** One line per call that failed. */
  readonly errors: readonly string[];
  facts(event: ParrotEvent): EventFacts;
}

export const NO_ENRICHMENT: Enrichment = { facts: () => ({}), errors: [] };

/** Forget the task definitions kept between invocations (tests). */
export function clearTaskDefinitionCache(): void {
  taskDefinitionCache.clear();
}

export async function enrich(events: readonly ParrotEvent[], logger: Logger): Promise<Enrichment> {
  const errors: string[] = [];
  const definitionArns = [...new Set(events.flatMap((e) => (e.type === 'task' && e.taskDefinitionArn ? [e.taskDefinitionArn] : [])))];
  const instancesByCluster = new Map<string, Set<string>>();
  for (const e of events) {
    const arn = e.type === 'task' ? e.containerInstanceArn : e.type === 'container-instance' ? e.containerInstanceArn : undefined;
    if (!arn || !e.cluster) continue;
    instancesByCluster.set(e.cluster, (instancesByCluster.get(e.cluster) ?? new Set()).add(arn));
  }
  if (definitionArns.length === 0 && instancesByCluster.size === 0) return NO_ENRICHMENT;

  const [definitions, instances] = await Promise.all([
    describeTaskDefinitions(definitionArns, errors),
    describeContainerInstances(instancesByCluster, errors),
  ]);
  if (errors.length > 0) logger.warn('enrichment incomplete; the messages go out without what it would have added', { errors });
  return {
    errors,
    facts: (event) => {
      const definition = event.type === 'task' && event.taskDefinitionArn ? definitions.get(event.taskDefinitionArn) : undefined;
      const instanceArn = event.type === 'task' || event.type === 'container-instance' ? event.containerInstanceArn : undefined;
      const instance = instanceArn ? instances.get(instanceId(instanceArn)) : undefined;
      return { ...(definition ? { taskDefinition: definition } : {}), ...(instance ? { instance } : {}) };
    },
  };
}

async function describeTaskDefinitions(arns: readonly string[], errors: string[]): Promise<Map<string, TaskDefinitionFacts>> {
  const found = new Map<string, TaskDefinitionFacts>();
  const missing = arns.filter((arn) => {
    const kept = taskDefinitionCache.get(arn);
    if (kept) found.set(arn, kept);
    return !kept;
  });
  if (missing.length === 0) return found;
  const { sdk, client } = await ecs();
  const outcomes = await settleWithConcurrency(missing, CONCURRENCY, async (arn) => {
    const out = await client.send(new sdk.DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    const td = out.taskDefinition;
    if (!td?.family) throw new Error('no task definition in the answer');
    const containers = new Map<string, ContainerFacts>();
    for (const c of td.containerDefinitions ?? []) {
      if (!c.name) continue;
      const options = c.logConfiguration?.logDriver === 'awslogs' ? c.logConfiguration.options ?? {} : undefined;
      containers.set(c.name, {
        // ECS defaults `essential` to true.
        essential: c.essential !== false,
        ...(options?.['awslogs-group']
          ? { logs: { group: options['awslogs-group'], region: options['awslogs-region'], streamPrefix: options['awslogs-stream-prefix'] } }
          : {}),
      });
    }
    return { family: td.family, revision: td.revision ?? 0, containers } satisfies TaskDefinitionFacts;
  });
  outcomes.forEach((outcome, i) => {
    const arn = missing[i];
    if (outcome.status === 'rejected') {
      errors.push(`DescribeTaskDefinition ${arn}: ${describeError(outcome.reason)}`);
      return;
    }
    found.set(arn, outcome.value);
    // Only a revision is immutable; an ARN without one means the family's latest ACTIVE revision.
    if (/:\d+$/.test(arn)) {
      if (taskDefinitionCache.size >= KEPT_TASK_DEFINITIONS) taskDefinitionCache.delete(taskDefinitionCache.keys().next().value!);
      taskDefinitionCache.set(arn, outcome.value);
    }
  });
  return found;
}

async function describeContainerInstances(
  byCluster: ReadonlyMap<string, ReadonlySet<string>>, errors: string[],
): Promise<Map<string, InstanceFacts>> {
  const found = new Map<string, InstanceFacts>();
  if (byCluster.size === 0) return found;
  const { sdk, client } = await ecs();
  const clusters = [...byCluster.keys()];
  const outcomes = await settleWithConcurrency(clusters, CONCURRENCY, (cluster) => describeInBatches(
    [...byCluster.get(cluster)!], DESCRIBE_BATCH_MAX.DescribeContainerInstances,
    async (batch) => {
      const out = await client.send(new sdk.DescribeContainerInstancesCommand({ cluster, containerInstances: batch }));
      return { items: out.containerInstances, failures: out.failures };
    }, CONCURRENCY,
  ));
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') {
      errors.push(`DescribeContainerInstances in ${clusters[i]}: ${describeError(outcome.reason)}`);
      return;
    }
    for (const ci of outcome.value.items) {
      if (!ci.containerInstanceArn) continue;
      // By id: an event may carry the short ARN (container-instance/<id>) of an instance ECS describes with the long one.
      found.set(instanceId(ci.containerInstanceArn), {
        ...(ci.ec2InstanceId ? { ec2InstanceId: ci.ec2InstanceId } : {}),
        ...(ci.status ? { status: ci.status } : {}),
        ...(ci.agentConnected !== undefined ? { agentConnected: ci.agentConnected } : {}),
      });
    }
    // A deregistered instance may be gone (MISSING): nothing to add.
  });
  return found;
}

/** The id at the end of a container instance ARN, short or long. */
function instanceId(arn: string): string {
  return arn.split('/').slice(-1)[0];
}

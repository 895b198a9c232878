/**
 * A corpus of ECS events for the EcsParrot tests: the EventBridge fixtures, and events of every kind and outcome
 * built from them (test/ecs-parrot/support/events.ts), named `<cluster>/<service>: <what>`. The rule patterns must
 * let through every one the handler would report (construct.test.ts), and our pattern matcher must agree with
 * moto's on each (test/common/event-patterns.test.ts).
 */
import {
  apiCallEvent, containerInstanceEvent, deploymentEvent, eventBridgeFixtures, hexId, serviceActionEvent, taskEvent,
  type ContainerSpec,
} from './events';

const T = new Date('2026-03-02T08:00:00.000Z');
const OOM = 'OutOfMemoryError: Container killed due to memory usage';

function task(seed: string, containers: ContainerSpec[], o: { cluster?: string; group?: string; stopCode?: string; stoppedReason?: string; lastStatus?: 'RUNNING' | 'STOPPED' } = {}) {
  return taskEvent({
    cluster: o.cluster,
    taskId: hexId(seed),
    group: o.group ?? 'service:api',
    taskDefinition: 'api:42',
    lastStatus: o.lastStatus ?? 'STOPPED',
    containers,
    stopCode: o.stopCode,
    stoppedReason: o.stoppedReason,
    createdAt: T,
    startedAt: T,
    at: T,
    version: 3,
  });
}

/** Events of every kind and outcome, in two clusters and two services, with the EventBridge fixtures first. */
export function corpus(): Array<{ name: string; event: any }> {
  const events: Array<{ name: string; event: any }> = eventBridgeFixtures().map((f) => ({ name: f.name, event: f.event }));
  for (const cluster of ['prod', 'batch']) {
    for (const service of ['api', 'canary']) {
      const group = `service:${service}`;
      const add = (name: string, event: any) => events.push({ name: `${cluster}/${service}: ${name}`, event });
      add('OOM', task(`${cluster}${service}oom`, [{ name: 'web', exitCode: 137, reason: OOM }], { cluster, group }));
      add('exit 1', task(`${cluster}${service}exit`, [{ name: 'web', exitCode: 1 }], { cluster, group }));
      add('exit 0', task(`${cluster}${service}exit0`, [{ name: 'web', exitCode: 0 }], { cluster, group }));
      add('sidecar', task(`${cluster}${service}side`, [{ name: 'web', exitCode: 0 }, { name: 'xray-daemon', exitCode: 2 }], { cluster, group }));
      add('pull', task(`${cluster}${service}pull`, [{ name: 'web', reason: 'CannotPullContainerError: failed to resolve ref' }], {
        cluster, group, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 7 time(s)',
      }));
      add('ELB', task(`${cluster}${service}elb`, [{ name: 'web', exitCode: 143 }], {
        cluster, group, stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1)',
      }));
      add('spot', task(`${cluster}${service}spot`, [{ name: 'web', exitCode: 143 }], { cluster, group, stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' }));
      add('scale-in', task(`${cluster}${service}scale`, [{ name: 'web', exitCode: 143 }], {
        cluster, group, stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
      }));
      add('user stop', task(`${cluster}${service}user`, [{ name: 'web', exitCode: 2 }], { cluster, group, stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' }));
      add('running', task(`${cluster}${service}run`, [{ name: 'web' }], { cluster, group, lastStatus: 'RUNNING' }));
      for (const [eventName, eventType, reason] of [
        ['SERVICE_DEPLOYMENT_FAILED', 'ERROR', 'ECS deployment circuit breaker: task failed to start.'],
        ['SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO', 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.'],
        ['SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO', 'ECS deployment ecs-svc/2 in progress.'],
        ['SERVICE_DEPLOYMENT_COMPLETED', 'INFO', 'ECS deployment ecs-svc/2 completed.'],
      ] as const) {
        add(`${eventName} ${reason}`, deploymentEvent({ cluster, service, eventName, eventType, deploymentId: 'ecs-svc/2', reason, at: T }));
      }
      for (const [eventName, eventType] of [['SERVICE_STEADY_STATE', 'INFO'], ['SERVICE_TASK_START_IMPAIRED', 'WARN'], ['SERVICE_TASK_PLACEMENT_FAILURE', 'ERROR']] as const) {
        add(eventName, serviceActionEvent({ cluster, service, eventName, eventType, at: T }));
      }
      // A service created before the long ARN format: its ARN names no cluster.
      add('short ARN SERVICE_DEPLOYMENT_FAILED', deploymentEvent({
        cluster, service, eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: 'ecs-svc/3', reason: 'ECS deployment circuit breaker: task failed to start.', at: T, shortArn: true,
      }));
      add('short ARN SERVICE_TASK_START_IMPAIRED', serviceActionEvent({ cluster, service, eventName: 'SERVICE_TASK_START_IMPAIRED', eventType: 'WARN', at: T, shortArn: true }));
    }
    for (const [name, spec] of [
      ['draining', { status: 'DRAINING', agentConnected: true }],
      ['inactive', { status: 'INACTIVE', agentConnected: false }],
      ['disconnected', { status: 'ACTIVE', agentConnected: false }],
      ['update failed', { status: 'ACTIVE', agentConnected: true, agentUpdateStatus: 'FAILED' }],
      ['routine', { status: 'ACTIVE', agentConnected: true }],
    ] as const) {
      events.push({ name: `${cluster}: instance ${name}`, event: containerInstanceEvent({ cluster, id: hexId(`${cluster}${name}`), ec2InstanceId: 'i-0a', version: 2, at: T, ...spec }) });
    }
    for (const [eventName, errorCode] of [['UpdateService', undefined], ['DeleteService', undefined], ['RunTask', 'AccessDenied'], ['RunTask', 'InternalFailure'], ['SubmitTaskStateChange', undefined]] as const) {
      events.push({ name: `${cluster}: ${eventName} ${errorCode ?? ''}`, event: apiCallEvent({ eventName, errorCode, requestParameters: { cluster, service: 'api' }, at: T, seed: cluster }) });
    }
  }
  return events;
}

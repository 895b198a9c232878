/**
 * EcsParrot's pure core: parsing every sample tolerantly, the classification table, coalescing a batch into
 * messages, backing off on ongoing failures, and the message a responder reads.
 */
import {
  apiCallEvent, cloudTrailFixtures, containerInstanceEvent, deploymentEvent, eventBridgeFixtures, hexId, taskEvent, wrapCloudTrailRecord,
  type ContainerSpec,
} from './support/events';
import { EventKind, ParrotSettings, classify, decideIncident, digest, type EventFacts, type Finding } from '../../lambda/ecs-parrot/core';
import { parseEvent, parseTime, shownEvent, type ApiCallEvent, type ParrotEvent, type TaskStateEvent } from '../../lambda/ecs-parrot/events';
import { formatDuration, logsConsoleUrl, renderDigest } from '../../lambda/ecs-parrot/message';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const OOM = 'OutOfMemoryError: Container killed due to memory usage';
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function settings(overrides: Partial<ParrotSettings> = {}): ParrotSettings {
  return {
    minimumSeverity: 'WARNING',
    kinds: new Set<EventKind>(['TASK_STOPPED', 'DEPLOYMENT', 'SERVICE_ACTION', 'CONTAINER_INSTANCE']),
    spotInterruptions: true,
    instanceDraining: true,
    clusters: new Set(),
    servicesInclude: new Set(),
    servicesExclude: new Set(),
    ignoreContainers: new Set(['xray-daemon']),
    apiCalls: new Set(['RunTask', 'StopTask', 'UpdateService', 'DeleteService']),
    enrichment: true,
    ...overrides,
  };
}

function parsed(raw: unknown): ParrotEvent {
  const result = parseEvent(raw);
  if ('malformed' in result) throw new Error(`malformed: ${result.malformed}`);
  return result.event;
}

/** A stopped task of service api (unless `group` says otherwise). */
function stopped(containers: ContainerSpec[], stop: { stopCode?: string; stoppedReason?: string; group?: string; seed?: string } = {}) {
  return parsed(taskEvent({
    taskId: hexId(stop.seed ?? JSON.stringify([containers, stop])),
    group: stop.group ?? 'service:api',
    taskDefinition: 'api:42',
    lastStatus: 'STOPPED',
    containers,
    stopCode: stop.stopCode,
    stoppedReason: stop.stoppedReason,
    startedBy: stop.group?.startsWith('family:') ? undefined : 'ecs-svc/1234567890123456789',
    createdAt: at(0),
    startedAt: at(20),
    at: at(200),
    version: 5,
  }));
}

function verdict(event: ParrotEvent, s = settings(), facts: EventFacts = {}) {
  const c = classify(event, s, facts);
  return c.interesting ? `${c.finding.severity} ${c.finding.kind}: ${c.finding.label}` : `skip: ${c.why}`;
}

describe('parsing', () => {
  test.each(eventBridgeFixtures())('the sample $name parses without throwing', ({ event }) => {
    const result = parseEvent(event);
    expect('event' in result).toBe(true);
  });

  test.each(cloudTrailFixtures())('the CloudTrail record $name parses in its EventBridge envelope, and alone is malformed', ({ record }) => {
    expect(parsed(wrapCloudTrailRecord(record))).toMatchObject({
      type: 'api-call', eventName: record.eventName, actor: 'Admin/Mary_Major', cluster: 'default', eventId: record.eventID,
    });
    expect(parseEvent(record)).toEqual({ malformed: 'no detail-type' });
  });

  test('the 2025 EC2 task: a task definition ARN without a revision, the cluster from clusterArn', () => {
    const event = parsed(eventBridgeFixtures().find((f) => f.name === 'task-state-change-ec2-running-2025.json')!.event) as TaskStateEvent;
    expect(event).toMatchObject({ type: 'task', cluster: 'example', taskDefinition: 'webserver', group: 'family:webserver', lastStatus: 'RUNNING' });
    expect(event.service).toBeUndefined();
  });

  test('an old event: no launchType, short ARNs, containers without exitCode or reason', () => {
    const raw = structuredClone(eventBridgeFixtures().find((f) => f.name === 'task-state-change-ec2-stopped-user-initiated.json')!.event);
    delete raw.detail.launchType;
    delete raw.detail.clusterArn;
    raw.detail.taskArn = 'arn:aws:ecs:eu-west-1:0123456789:task/33a7f27282624543abd4a00c3e84d0ee';
    delete raw.detail.containers[0].exitCode;
    const event = parsed(raw) as TaskStateEvent;
    expect(event.launchType).toBeUndefined();
    expect(event.cluster).toBeUndefined();
    expect(event.taskId).toBe('33a7f27282624543abd4a00c3e84d0ee');
    expect(event.containers).toEqual([{ name: 'Webapp', lastStatus: 'STOPPED', image: '0123456789.dkr.ecr.eu-west-1.amazonaws.com/webapp:d1a3f22' }]);
    expect(event.uptimeSeconds).toBe(Math.round((Date.parse('2020-06-05T12:17:11.696Z') - Date.parse('2020-06-02T09:16:17.544Z')) / 1000));
  });

  test('a service event names its service only in resources[0]', () => {
    const event = parsed(eventBridgeFixtures().find((f) => f.name === 'deployment-state-change-failed.json')!.event);
    expect(event).toMatchObject({ type: 'deployment', service: 'servicetest', cluster: 'default', deploymentId: 'ecs-svc/123' });
  });

  test.each([
    ['2025-05-12T13:11:44.98Z', '2025-05-12T13:11:44.980Z'],
    ['2020-06-05T12:17:10Z', '2020-06-05T12:17:10.000Z'],
    ['2025-01-31T09:30:00.123456-05:00', '2025-01-31T14:30:00.123Z'],
    ['2025-01-31T09:30:00+0100', '2025-01-31T08:30:00.000Z'],
    ['2025-01-31 09:30:00', '2025-01-31T09:30:00.000Z'],
    [1479486600.123, '2016-11-18T16:30:00.123Z'],
    ['1479486600', '2016-11-18T16:30:00.000Z'],
    [1479486600123, '2016-11-18T16:30:00.123Z'],
  ])('parses the timestamp %p', (input, expected) => {
    expect(parseTime(input)?.toISOString()).toBe(expected);
  });

  test('the events the tests build have the shapes of the fixtures they are built from', () => {
    const keys = (o: object) => Object.keys(o).sort();
    const union = (...objects: object[]) => [...new Set(objects.flatMap(keys))].sort();
    const f = (name: string) => eventBridgeFixtures().find((x) => x.name === name)!.event;
    const stoppedFixture = f('task-state-change-ec2-stopped-user-initiated.json');
    const runningFixture = f('task-state-change-ec2-running-2025.json');
    const built = taskEvent({
      taskId: hexId('shape'),
      group: 'service:api',
      taskDefinition: 'api:1',
      lastStatus: 'STOPPED',
      containers: [{ name: 'web', exitCode: 137, reason: OOM }],
      createdAt: at(0),
      startedAt: at(10),
      at: at(60),
      version: 4,
    });
    expect(keys(built)).toEqual(keys(stoppedFixture));
    expect(union(stoppedFixture.detail, runningFixture.detail)).toEqual(expect.arrayContaining(keys(built.detail)));
    // ECS adds a container's reason when it has one (the API's Container.reason).
    expect([...keys(stoppedFixture.detail.containers[0]), 'reason']).toEqual(expect.arrayContaining(keys(built.detail.containers[0])));
    const deployment = deploymentEvent({ service: 'api', eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: 'ecs-svc/1', reason: 'r', at: at(0) });
    expect(keys(deployment.detail)).toEqual(keys(f('deployment-state-change-failed.json').detail));
    const instance = containerInstanceEvent({ id: 'a', ec2InstanceId: 'i-0a', status: 'DRAINING', agentConnected: true, version: 2, at: at(0) });
    expect(keys(instance.detail)).toEqual(keys(f('container-instance-state-change-active.json').detail));
  });

  test('malformed events say why', () => {
    expect(parseEvent('text')).toEqual({ malformed: 'not a JSON object' });
    expect(parseEvent({ 'detail-type': 'ECS Task State Change', 'source': 'aws.ecs' })).toEqual({ malformed: 'no detail', detailType: 'ECS Task State Change' });
    expect(parseEvent({ 'detail-type': 'ECS Cluster Party', 'detail': {} })).toEqual({ malformed: 'unknown detail-type "ECS Cluster Party"', detailType: 'ECS Cluster Party' });
    const noContainers = structuredClone(eventBridgeFixtures().find((f) => f.name === 'task-state-change-ec2-stopped-user-initiated.json')!.event);
    noContainers.detail.containers = [];
    expect(parseEvent(noContainers)).toEqual({ malformed: 'a task event without containers', detailType: 'ECS Task State Change' });
  });
});

describe('what an event shows', () => {
  const call = (eventName: string, requestParameters: Record<string, unknown>) =>
    parsed(apiCallEvent({ eventName, requestParameters, at: at(0) })) as ApiCallEvent;

  test.each([
    ['ExecuteCommand', { cluster: 'prod', task: 'arn:aws:ecs:us-east-1:123456789012:task/prod/abc', container: 'app', command: 'psql postgres://a:b@c', interactive: true },
      'task=abc container=app command=(not shown)'],
    ['StopTask', { cluster: 'prod', task: 'abc', reason: 'DB_PASSWORD=hunter2' }, 'task=abc reason=(not shown)'],
    ['RunTask', { cluster: 'prod', taskDefinition: 'migrate:3', count: 2, overrides: { containerOverrides: [] }, startedBy: 'me' },
      'taskDefinition=migrate:3 count=2 overrides=(not shown)'],
    ['UpdateService', { cluster: 'prod', service: 'api', desiredCount: 3, forceNewDeployment: true }, 'service=api desiredCount=3 forceNewDeployment=true'],
    // A parameter that should be an identifier but is not one (a hand-made request) is left out.
    ['UpdateService', { cluster: 'prod', service: 'api DB_PASSWORD=hunter2', desiredCount: 3 }, 'desiredCount=3'],
  ])('an API call %s names only identifiers: %j', (eventName, requestParameters, target) => {
    expect(call(eventName, requestParameters).target).toBe(target);
  });

  test('a task\'s override values are masked where ECS quotes them in a reason, and never kept', () => {
    // Prepare: RunTask's overrides, as the task event reports them
    const raw = taskEvent({
      taskId: hexId('override'),
      group: 'family:migrate',
      taskDefinition: 'migrate:3',
      lastStatus: 'STOPPED',
      containers: [{ name: 'migrate', reason: 'CannotStartContainerError: exec: "psql postgres://u:pw-1234@db/app": not found; token abcd-secret-9' }],
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'Task failed to start',
      createdAt: at(0),
      at: at(5),
      version: 3,
    });
    raw.detail.overrides = { containerOverrides: [{ name: 'migrate', command: ['psql', 'postgres://u:pw-1234@db/app'], environment: [{ name: 'T', value: 'abcd-secret-9' }] }] };

    // Act
    const event = parsed(raw) as TaskStateEvent;

    // Assess: the container keeps its name (an identifier), the command and the value are masked
    expect(event.containers).toEqual([expect.objectContaining({ name: 'migrate', reason: 'CannotStartContainerError: exec: "***": not found; token ***' })]);
    expect(JSON.stringify(event)).not.toMatch(/pw-1234|abcd-secret-9|overrides/);
  });

  test('a cluster or service parameter that is no identifier is not shown as the call\'s cluster or service', () => {
    const e = call('UpdateService', { cluster: 'prod hunter2', service: 'api DB_PASSWORD=hunter2' });
    expect([e.cluster, e.service]).toEqual(['(not shown)', undefined]);
  });

  test('a task stopped by StopTask shows the reason given to it as not shown; ECS\'s own reasons stay', () => {
    const user = stopped([{ name: 'web', exitCode: 2 }], { stopCode: 'UserInitiated', stoppedReason: 'because DB_PASSWORD=hunter2' }) as TaskStateEvent;
    const plain = stopped([{ name: 'web', exitCode: 2 }], { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    const crash = stopped([{ name: 'web', exitCode: 2 }], { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(shownEvent(user)).toEqual({ ...user, stoppedReason: 'the reason given to StopTask (not shown)' });
    expect(user.stoppedReason).toBe('because DB_PASSWORD=hunter2');
    expect(shownEvent(plain)).toBe(plain);
    expect(shownEvent(crash)).toBe(crash);
  });
});

describe('classification', () => {
  const web = (exitCode?: number, reason?: string): ContainerSpec => ({ name: 'web', exitCode, reason });
  const xray = (exitCode?: number): ContainerSpec => ({ name: 'xray-daemon', exitCode });

  test.each<[string, ParrotEvent, string]>([
    ['an essential container exited non-zero', stopped([web(1), xray(0)]), 'WARNING exit: web exit 1'],
    ['OutOfMemoryError', stopped([web(137, 'OutOfMemoryError: Container killed due to memory usage')]), 'WARNING oom: OutOfMemoryError (web)'],
    ['CannotPullContainerError', stopped([web(undefined, 'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref')], {
      stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 7 time(s)',
    }), 'ERROR start-failure: CannotPullContainerError'],
    ['ResourceInitializationError', stopped([web()], {
      stopCode: 'TaskFailedToStart', stoppedReason: 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
    }), 'ERROR start-failure: ResourceInitializationError'],
    ['TaskFailedToStart without an error name', stopped([web()], { stopCode: 'TaskFailedToStart', stoppedReason: 'Task failed to start' }), 'ERROR start-failure: failed to start'],
    ['failed ELB health checks', stopped([web(143)], {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef)',
    }), 'WARNING health-check: failed ELB health checks'],
    ['failed container health checks', stopped([web(143)], { stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks' }),
      'WARNING health-check: failed container health checks'],
    ['a Spot interruption', stopped([web(143)], { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' }), 'WARNING spot: Spot interruption'],
    ['a Spot termination notice', stopped([web(143)], { stopCode: 'TerminationNotice', stoppedReason: 'Spot instance termination notice' }), 'WARNING spot: Spot interruption'],
    ['a deployment\'s normal scale-in', stopped([web(143)], {
      stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
    }), 'skip: a normal scale-in'],
    ['a user-initiated stop with exit 0 (the AWS sample)', parsed(eventBridgeFixtures().find((f) => f.name === 'task-state-change-ec2-stopped-user-initiated.json')!.event),
      'skip: stopped by a user'],
    ['a user-initiated stop ended by SIGTERM', stopped([web(143)], { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' }), 'skip: stopped by a user'],
    ['a user-initiated stop with a crash on the way out (INFO)', stopped([web(2)], { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' }),
      'skip: INFO is below the minimum severity WARNING'],
    ['a container on the ignore list', stopped([web(0), xray(2)]), 'skip: only an ignored container exited non-zero'],
    ['an OOM of a container on the ignore list', stopped([web(0), { name: 'xray-daemon', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }]),
      'skip: only an ignored container exited non-zero'],
    ['a service task whose essential container exited 0', stopped([web(0)]), 'WARNING exit: web exit 0'],
    ['a standalone task that completed', stopped([{ name: 'migrate', exitCode: 0 }], { group: 'family:migrate' }), 'skip: a standalone task completed'],
    ['a standalone task that failed', stopped([{ name: 'migrate', exitCode: 3 }], { group: 'family:migrate' }), 'WARNING exit: migrate exit 3'],
    ['its EC2 host went away', stopped([web()], { stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Host EC2 (instance i-0123456789abcdef0) terminated.' }),
      'WARNING host: its EC2 instance stopped or terminated'],
    ['a task that is not STOPPED', parsed(eventBridgeFixtures().find((f) => f.name === 'task-state-change-fargate-running-2020.json')!.event),
      'skip: a task state change to RUNNING, not STOPPED'],
  ])('task: %s', (_name, event, expected) => {
    expect(verdict(event)).toBe(expected);
  });

  test('the essential flag from the task definition: a non-essential container\'s exit does not alert', () => {
    const event = stopped([{ name: 'migrate', exitCode: 0 }, { name: 'log-router', exitCode: 1 }], { group: 'family:migrate' });
    expect(verdict(event)).toBe('WARNING exit: log-router exit 1');
    const facts: EventFacts = {
      taskDefinition: { family: 'migrate', revision: 1, containers: new Map([['migrate', { essential: true }], ['log-router', { essential: false }]]) },
    };
    expect(verdict(event, settings(), facts)).toBe('skip: a standalone task completed');
  });

  test('a task moved off a DRAINING instance is not reported; a crash there is', () => {
    const moved = stopped([web(143)], { stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Service api: container instance is draining' });
    expect(verdict(moved, settings(), { instance: { status: 'DRAINING', ec2InstanceId: 'i-0abc' } })).toBe('skip: moved off a draining container instance');
    expect(verdict(stopped([web(1)]), settings(), { instance: { status: 'DRAINING' } })).toBe('WARNING exit: web exit 1');
  });

  test('spotInterruptions off mutes Spot interruptions', () => {
    const spot = stopped([web(143)], { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
    expect(verdict(spot, settings({ spotInterruptions: false }))).toBe('skip: a Spot interruption (spotInterruptions is off)');
  });

  test.each([
    ['deployment-state-change-failed.json', 'WARNING', 'ERROR deployment-failed: deployment failed'],
    ['deployment-state-change-completed.json', 'WARNING', 'skip: INFO is below the minimum severity WARNING'],
    ['deployment-state-change-completed.json', 'INFO', 'INFO deployment-completed: deployment completed'],
    ['service-action-task-start-impaired.json', 'WARNING', 'WARNING service-action: SERVICE_TASK_START_IMPAIRED'],
    ['service-action-task-placement-failure-ec2-cpu.json', 'WARNING', 'ERROR service-action: SERVICE_TASK_PLACEMENT_FAILURE (RESOURCE:CPU)'],
    ['service-action-steady-state.json', 'WARNING', 'skip: INFO is below the minimum severity WARNING'],
    ['service-action-steady-state.json', 'INFO', 'INFO service-action: SERVICE_STEADY_STATE'],
    ['service-action-task-placement-failure-ec2-cpu.json', 'ERROR', 'ERROR service-action: SERVICE_TASK_PLACEMENT_FAILURE (RESOURCE:CPU)'],
    ['container-instance-state-change-active.json', 'INFO', 'skip: a routine container instance change'],
  ])('sample %s at minimum severity %s: %s', (name, minimum, expected) => {
    const event = parsed(eventBridgeFixtures().find((f) => f.name === name)!.event);
    expect(verdict(event, settings({ minimumSeverity: minimum as 'INFO' }))).toBe(expected);
  });

  test('a rollback is an ERROR; a deployment starting is INFO', () => {
    const rollback = parsed(deploymentEvent({
      service: 'api',
      eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
      eventType: 'INFO',
      deploymentId: 'ecs-svc/2',
      reason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.',
      at: at(0),
    }));
    const starting = parsed(deploymentEvent({
      service: 'api', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', eventType: 'INFO', deploymentId: 'ecs-svc/2', reason: 'ECS deployment ecs-svc/2 in progress.', at: at(0),
    }));
    expect(verdict(rollback)).toBe('ERROR rollback: rolling back');
    expect(verdict(starting, settings({ minimumSeverity: 'INFO' }))).toBe('INFO deployment-started: deployment started');
  });

  test.each<[string, Parameters<typeof containerInstanceEvent>[0], EventFacts, Partial<ParrotSettings>, string]>([
    ['DRAINING', { id: 'a', ec2InstanceId: 'i-0a', status: 'DRAINING', agentConnected: true, version: 3, at: at(0) }, {}, {}, 'WARNING draining: DRAINING'],
    ['INACTIVE', { id: 'a', ec2InstanceId: 'i-0a', status: 'INACTIVE', agentConnected: false, version: 4, at: at(0) }, {}, {}, 'WARNING deregistered: deregistered (INACTIVE)'],
    ['DRAINING with instanceDraining off', { id: 'a', ec2InstanceId: 'i-0a', status: 'DRAINING', agentConnected: true, version: 3, at: at(0) }, {},
      { instanceDraining: false }, 'skip: DRAINING (instanceDraining is off)'],
    ['an agent update FAILED', { id: 'a', ec2InstanceId: 'i-0a', status: 'ACTIVE', agentConnected: true, agentUpdateStatus: 'FAILED', version: 5, at: at(0) }, {}, {},
      'WARNING agent-update-failed: agent update FAILED'],
    ['an agent disconnected, still disconnected', { id: 'a', ec2InstanceId: 'i-0a', status: 'ACTIVE', agentConnected: false, version: 6, at: at(0) },
      { instance: { agentConnected: false, status: 'ACTIVE' } }, {}, 'WARNING agent-disconnected: agent disconnected'],
    ['an agent disconnected, reconnected since', { id: 'a', ec2InstanceId: 'i-0a', status: 'ACTIVE', agentConnected: false, version: 6, at: at(0) },
      { instance: { agentConnected: true, status: 'ACTIVE' } }, {}, 'skip: the agent has reconnected'],
    ['an agent disconnected, enrichment off', { id: 'a', ec2InstanceId: 'i-0a', status: 'ACTIVE', agentConnected: false, version: 6, at: at(0) }, {},
      { enrichment: false, minimumSeverity: 'INFO' }, 'INFO agent-disconnected: agent disconnected (not checked again: enrichment is off)'],
  ])('container instance: %s', (_name, spec, facts, overrides, expected) => {
    expect(verdict(parsed(containerInstanceEvent(spec)), settings(overrides), facts)).toBe(expected);
  });

  test.each<[string, Parameters<typeof apiCallEvent>[0], string]>([
    ['a routine call is INFO', { eventName: 'UpdateService', requestParameters: { cluster: 'prod', service: 'api', desiredCount: 4 }, at: at(0) },
      'INFO api-call: Admin/Mary_Major: UpdateService'],
    ['a destructive call is a WARNING', { eventName: 'DeleteService', requestParameters: { cluster: 'prod', service: 'api' }, at: at(0) },
      'WARNING api-call: Admin/Mary_Major: DeleteService'],
    ['a failed call is a WARNING', { eventName: 'RunTask', requestParameters: { cluster: 'prod', taskDefinition: 'migrate:3' }, at: at(0), errorCode: 'AccessDenied' },
      'WARNING api-call: Admin/Mary_Major: RunTask failed (AccessDenied)'],
    ['InternalFailure is skipped', { eventName: 'RunTask', requestParameters: { cluster: 'prod' }, at: at(0), errorCode: 'InternalFailure' },
      'skip: an API call that failed inside AWS (InternalFailure)'],
    ['the agent\'s SubmitTaskStateChange is not in the list', { eventName: 'SubmitTaskStateChange', requestParameters: { cluster: 'prod' }, at: at(0) },
      'skip: SubmitTaskStateChange is not one of the API calls reported'],
  ])('API call: %s', (_name, spec, expected) => {
    const s = settings({ minimumSeverity: 'INFO', kinds: new Set<EventKind>(['API_CALL']) });
    expect(verdict(parsed(apiCallEvent(spec)), s)).toBe(expected);
  });

  test('filters: kinds, clusters, services included and excluded', () => {
    const oom = stopped([web(137, 'OutOfMemoryError: Container killed due to memory usage')]);
    expect(verdict(oom, settings({ kinds: new Set<EventKind>(['DEPLOYMENT']) }))).toBe('skip: TASK_STOPPED events are not reported');
    expect(verdict(oom, settings({ clusters: new Set(['staging']) }))).toBe('skip: cluster prod is not one of the clusters');
    expect(verdict(oom, settings({ servicesInclude: new Set(['web']) }))).toBe('skip: service api is not included');
    expect(verdict(oom, settings({ servicesExclude: new Set(['api']) }))).toBe('skip: service api is excluded');
    expect(verdict(oom, settings({ clusters: new Set(['prod']), servicesInclude: new Set(['api']) }))).toBe('WARNING oom: OutOfMemoryError (web)');
  });
});

describe('coalescing and back-off', () => {
  const oomTask = (i: number) => stopped([{ name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }], { seed: `oom-${i}` });
  const finding = (event: ParrotEvent): Finding => {
    const c = classify(event, settings());
    if (!c.interesting) throw new Error(c.why);
    return c.finding;
  };

  test('the same failure of 12 tasks of one service is one message with one line', () => {
    const digests = digest(Array.from({ length: 12 }, (_, i) => finding(oomTask(i))));

    expect(digests).toHaveLength(1);
    expect(digests[0].lines.map((l) => [l.label, l.findings.length])).toEqual([['OutOfMemoryError (web)', 12]]);
    const message = renderDigest(digests[0], { facts: () => ({}), incidents: new Map() });
    expect(message.title).toBe('12 tasks of service api stopped: OutOfMemoryError (web) ×12');
    expect(message.severity).toBe('warning');
  });

  test('two services and a deployment make two messages, the deployment\'s first', () => {
    const failedDeployment = parsed(deploymentEvent({
      service: 'api', eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: 'ecs-svc/2', reason: 'ECS deployment circuit breaker: task failed to start.', at: at(0),
    }));
    const worker = parsed(taskEvent({
      taskId: hexId('worker'),
      group: 'service:worker',
      taskDefinition: 'worker:7',
      lastStatus: 'STOPPED',
      containers: [{ name: 'worker', exitCode: 1 }],
      createdAt: at(0),
      startedAt: at(10),
      at: at(40),
      version: 4,
    }));

    const digests = digest([finding(oomTask(1)), finding(worker), finding(failedDeployment), finding(oomTask(2))]);

    expect(digests.map((d) => [d.subject.name, d.severity, d.findings.length])).toEqual([['api', 'ERROR', 3], ['worker', 'WARNING', 1]]);
    const api = renderDigest(digests[0], { facts: () => ({}), incidents: new Map() });
    expect(api.title).toBe('Deployment of service api failed');
    expect(api.summary).toBe([
      '• [ERROR] Deployment failed (ecs-svc/2): ECS deployment circuit breaker: task failed to start.',
      '• [WARNING] OutOfMemoryError (web) ×2',
    ].join('\n'));
  });

  test.each([
    ['a new failure is reported', undefined, 3, true, 3],
    ['an ongoing one again once its count has doubled', { occurrences: 8, reported: 8, reportedAt: 1000, firstAt: 900 }, 8, true, 16],
    ['but not before', { occurrences: 8, reported: 8, reportedAt: 1000, firstAt: 900 }, 7, false, 15],
    ['and again an hour after the last report whatever the count', { occurrences: 8, reported: 8, reportedAt: 1000 - 3600, firstAt: 0 }, 1, true, 9],
  ])('decideIncident: %s', (_name, prior, fresh, report, total) => {
    expect(decideIncident(prior, fresh, 1000)).toMatchObject({ report, total });
  });
});

describe('the message', () => {
  test('names the task definition, uptime, exit codes, the instance and its draining, and links the console and the logs', () => {
    const event = parsed(taskEvent({
      taskId: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
      group: 'service:api',
      taskDefinition: 'api:42',
      lastStatus: 'STOPPED',
      containers: [{ name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }, { name: 'xray-daemon', exitCode: 0 }],
      createdAt: at(0),
      startedAt: at(20),
      at: at(212),
      version: 5,
      startedBy: 'ecs-svc/1234567890123456789',
      containerInstanceId: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    }));
    const facts: EventFacts = {
      taskDefinition: {
        family: 'api',
        revision: 42,
        containers: new Map([
          ['web', { essential: true, logs: { group: '/ecs/api', streamPrefix: 'api' } }],
          ['xray-daemon', { essential: false }],
        ]),
      },
      instance: { ec2InstanceId: 'i-0abcdef0123456789', status: 'DRAINING', agentConnected: true },
    };
    const c = classify(event, settings(), facts);
    if (!c.interesting) throw new Error(c.why);

    const message = renderDigest(digest([c.finding])[0], { facts: () => facts, incidents: new Map() });

    expect(message.title).toBe('1 task of service api stopped: OutOfMemoryError (web)');
    expect(message.fields).toEqual([
      { name: 'Cluster', value: 'prod' }, { name: 'Service', value: 'api' }, { name: 'Task definition', value: 'api:42' },
      { name: 'Capacity', value: 'prod-asg-capacity-provider' },
    ]);
    expect(message.sections).toEqual([{
      heading: 'Stopped tasks',
      text: [
        'EssentialContainerExited · Essential container in task exited',
        '  web: exit 137 (SIGKILL), OutOfMemoryError: Container killed due to memory usage',
        '  xray-daemon (not essential): exit 0',
        '  f0e1d2c3b4a5 api:42 · ran 3m 12s · on i-0abcdef0123456789 (DRAINING)',
      ].join('\n'),
    }]);
    expect(message.context).toEqual(['123456789012', 'us-east-1', '2026-03-02 08:03 UTC']);
    expect(message.link).toEqual({ text: 'Service api', url: 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/api/health?region=us-east-1' });
    expect(message.links).toEqual([
      { text: 'Task f0e1d2c3', url: 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/f0e1d2c3b4a5968778695a4b3c2d1e0f/configuration?region=us-east-1' },
      {
        text: 'Logs of web',
        url: 'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Fecs$252Fapi/log-events/'
          + 'api$252Fweb$252Ff0e1d2c3b4a5968778695a4b3c2d1e0f',
      },
    ]);
    expect(message.data).toMatchObject({ schema: 'ecs-parrot/1', cluster: 'prod', subject: { kind: 'service', name: 'api' }, events: [{ label: 'OutOfMemoryError (web)' }] });
  });

  test('an ongoing failure says how often it happened since it began', () => {
    const events = [1, 2].map((i) => stopped([{ name: 'web', exitCode: 1 }], { seed: `crash-${i}` }));
    const findings = events.map((e) => {
      const c = classify(e, settings());
      if (!c.interesting) throw new Error(c.why);
      return c.finding;
    });
    const d = digest(findings)[0];
    const firstAt = Date.parse('2026-03-02T07:10:00Z') / 1000;

    const incident = { report: true, total: 16, sinceLastReport: 8, firstAt, ongoing: true };
    const message = renderDigest(d, { facts: () => ({}), incidents: new Map([[d.lines[0].signature, incident]]) });

    expect(message.summary).toBe('• [WARNING] web exit 1 ×2 (ongoing: 16 since 07:10:00, 8 since the last message)');
  });

  test('links to logs in the China and GovCloud partitions, and encodes names as the console does', () => {
    expect(logsConsoleUrl('aws-cn', 'cn-north-1', '/ecs/my app')).toBe('https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#logsV2:log-groups/log-group/$252Fecs$252Fmy$2520app');
    expect(logsConsoleUrl('aws-us-gov', 'us-gov-west-1', 'g', 's/1')).toBe('https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#logsV2:log-groups/log-group/g/log-events/s$252F1');
  });

  test.each([[42, '42s'], [192, '3m 12s'], [7500, '2h 5m'], [273600, '3d 4h']])('formats %ps as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

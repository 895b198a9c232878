/**
 * The runner's pure decisions: its properties read as CloudFormation sends them, the identifiers derived from a request,
 * when an update runs, what the tasks' end means, and the reasons CloudFormation shows.
 */
import { Redactor, withRedactor } from '../../lambda/common/redact';
import {
  ContainerDefinitionLike, PropertiesError, REASON_MAX_BYTES, RunnerProperties, TaskFailure, changedCriteria, changedRunInputs,
  checkAgainstTaskDefinition, chosenContainers, clientTokenFor, containerInfo, decideCreate, describeTaskFailure, effectiveEnvironment,
  failureReason, fitReason, humanDuration, isRunnerPhysicalId, jsonBytes, judge, LOG_LINE_MAX_BYTES, overrideSecrets, parseProperties,
  placementReason, planUpdate, readEarlierProperties, stackNameOf, startedByFor, taskFailure, taskIdOf, taskLogsUrl, timeoutReason, truncate,
} from '../../lambda/ecs-task-runner/core';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Deploy/0a1b2c3d-0000-4000-8000-000000000001';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef';

/** Properties as CloudFormation sends them: every scalar a string. */
const RAW = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
  Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
  TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:3',
  Launch: { Type: 'FARGATE', Subnets: ['subnet-1'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED', PlatformVersion: '1.4.0' },
  Count: '2',
  ContainerOverrides: [{ Name: 'app', Command: ['npm', 'run', 'migrate'], Environment: [{ Name: 'STEP', Value: '1' }] }],
  RunOn: ['CREATE', 'UPDATE'],
  RunOnRollback: 'false',
  UpdateCriteria: [{ ContainerName: 'app', EnvironmentKeys: ['DB_HOST'] }],
  Triggers: { schema: '42' },
  TimeoutSeconds: '600',
  RunSeconds: '525',
  SuccessCriteria: { Type: 'ESSENTIAL_CONTAINERS', Containers: [] },
  StopTasksOnDelete: 'true',
  PropagateTags: 'false',
  EnableExecuteCommand: 'false',
};

const props = (patch: Record<string, unknown> = {}): RunnerProperties => parseProperties({ ...RAW, ...patch });

describe('parseProperties', () => {
  test('reads the strings CloudFormation sends into typed properties', () => {
    expect(props()).toEqual({
      cluster: RAW.Cluster,
      taskDefinition: RAW.TaskDefinition,
      launch: { kind: 'FARGATE', subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED', platformVersion: '1.4.0' },
      count: 2,
      containerOverrides: [{ name: 'app', command: ['npm', 'run', 'migrate'], environment: [{ name: 'STEP', value: '1' }] }],
      runOn: ['CREATE', 'UPDATE'],
      runOnRollback: false,
      updateCriteria: [{ containerName: 'app', environmentKeys: ['DB_HOST'] }],
      triggers: { schema: '42' },
      timeoutSeconds: 600,
      runSeconds: 525,
      successCriteria: { kind: 'ESSENTIAL_CONTAINERS', containers: [] },
      stopTasksOnDelete: true,
      propagateTags: false,
      enableExecuteCommand: false,
      includeLogLinesInReason: true,
    });
  });

  test('reads IncludeLogLinesInReason, and refuses what is not a boolean', () => {
    expect(props({ IncludeLogLinesInReason: 'false' }).includeLogLinesInReason).toBe(false);
    expect(() => props({ IncludeLogLinesInReason: 'no' }))
      .toThrow('IncludeLogLinesInReason is "no"; expected true or false');
  });

  test('reads capacity providers, placement and container instances', () => {
    const launch = props({
      Launch: {
        Type: 'CAPACITY_PROVIDERS',
        CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: '2', Base: '1' }],
        PlacementConstraints: [{ Type: 'memberOf', Expression: 'attribute:ecs.instance-type =~ t3.*' }],
        PlacementStrategy: [{ Type: 'spread', Field: 'attribute:ecs.availability-zone' }],
      },
    }).launch;
    expect(launch).toEqual({
      kind: 'CAPACITY_PROVIDERS',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2, base: 1 }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
      placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
    });
    expect(props({ Launch: { Type: 'CONTAINER_INSTANCES', ContainerInstances: ['ci-1', 'ci-2'] } }).launch)
      .toEqual({ kind: 'CONTAINER_INSTANCES', containerInstances: ['ci-1', 'ci-2'] });
  });

  test('fails naming every problem', () => {
    const error = (() => {
      try {
        parseProperties({ ...RAW, Cluster: 7, Count: '0', RunOn: ['NEVER'], TimeoutSeconds: '600', RunSeconds: '600', Launch: { Type: 'CONTAINER_INSTANCES' }, SuccessCriteria: { Type: 'CONTAINERS' } });
      } catch (e) {
        return e as PropertiesError;
      }
      throw new Error('expected a PropertiesError');
    })();
    expect(error).toBeInstanceOf(PropertiesError);
    expect(error.problems).toEqual([
      'Cluster is not a string',
      'Launch.ContainerInstances has 0 item(s); expected 1 to 10',
      'RunOn has "NEVER"; expected CREATE or UPDATE',
      'RunSeconds (600) is not less than TimeoutSeconds (600)',
      'SuccessCriteria.Containers is empty',
      'Count is "0"; expected a whole number from 1 to 10',
    ]);
    expect(() => parseProperties('nope')).toThrow(/ResourceProperties is not an object/);
  });
});

describe('identifiers', () => {
  test('the physical id is the tasks\' startedBy: 36 characters ECS accepts, one per resource of a stack', () => {
    const id = startedByFor(STACK_ID, 'Migrate');
    expect(id).toMatch(/^ecs-task-runner-[0-9a-f]{20}$/);
    expect(id).toHaveLength(36);
    expect(startedByFor(STACK_ID, 'Migrate')).toBe(id);
    expect(startedByFor(STACK_ID, 'Seed')).not.toBe(id);
    expect(startedByFor(STACK_ID.replace('0001', '0002'), 'Migrate')).not.toBe(id);
    expect(isRunnerPhysicalId(id)).toBe(true);
    expect(isRunnerPhysicalId('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED')).toBe(false);
  });

  test('the client token is one per request, and what RunTask accepts (at most 64 of ASCII 33-126)', () => {
    const token = clientTokenFor(STACK_ID, 'Migrate', 'request-1');
    expect(token).toMatch(/^[\x21-\x7e]{1,64}$/);
    expect(clientTokenFor(STACK_ID, 'Migrate', 'request-1')).toBe(token);
    expect(clientTokenFor(STACK_ID, 'Migrate', 'request-2')).not.toBe(token);
    expect(clientTokenFor(STACK_ID, 'Seed', 'request-1')).not.toBe(token);
  });

  test('reads the stack name from a stack id', () => {
    expect(stackNameOf(STACK_ID)).toBe('Deploy');
    expect(stackNameOf('Deploy')).toBe('Deploy');
  });
});

describe('task definitions', () => {
  const definitions: ContainerDefinitionLike[] = [
    {
      name: 'app',
      environment: [{ name: 'DB_HOST', value: 'db-1' }, { name: 'STEP', value: '0' }],
      secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/migrate', 'awslogs-stream-prefix': 'migrate', 'awslogs-region': 'eu-west-1' } },
    },
    { name: 'envoy', essential: false, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/envoy' } } },
    { name: 'fluent', essential: true, logConfiguration: { logDriver: 'awsfirelens' } },
  ];

  test('knows which containers are essential and where awslogs writes (only with a stream prefix, so the stream is known)', () => {
    expect(containerInfo(definitions)).toEqual([
      { name: 'app', essential: true, awslogs: { group: '/ecs/migrate', streamPrefix: 'migrate', region: 'eu-west-1' } },
      { name: 'envoy', essential: false },
      { name: 'fluent', essential: true },
    ]);
  });

  test('a container\'s environment is the task definition\'s, secrets by reference, with the overrides over it', () => {
    const overrides = [{ name: 'app', environment: [{ name: 'STEP', value: '1' }] }, { name: 'envoy', environment: [{ name: 'X', value: 'y' }] }];
    expect(effectiveEnvironment(definitions, overrides, 'app')).toEqual({
      DB_HOST: 'db-1', STEP: '1', DB_PASSWORD: 'secret:arn:aws:secretsmanager:us-east-1:123456789012:secret:db',
    });
    expect(effectiveEnvironment(definitions, [], 'nope')).toEqual({});
  });

  test('names overrides and success containers that are not in the task definition', () => {
    const info = containerInfo(definitions);
    const p = props({ ContainerOverrides: [{ Name: 'ap', Command: ['x'] }], SuccessCriteria: { Type: 'CONTAINERS', Containers: ['app', 'sidecar'] } });
    expect(checkAgainstTaskDefinition(p, info, 'migrate:3')).toEqual([
      'containerOverrides names container ap, which is not in migrate:3 (its containers are app, envoy, fluent)',
      'successCriteria names container sidecar, which is not in migrate:3 (its containers are app, envoy, fluent)',
    ]);
  });
});

describe('when it runs', () => {
  test('a create runs with RunOn.CREATE only', () => {
    expect(decideCreate(props())).toEqual({ run: true, why: 'the resource is created' });
    expect(decideCreate(props({ RunOn: ['UPDATE'] }))).toEqual({ run: false, why: 'runOn does not include CREATE' });
  });

  test('without updateCriteria an update runs when what the task runs changed, not for the waiting settings alone', () => {
    const before = props({ UpdateCriteria: [] });
    expect(planUpdate(before, props({ UpdateCriteria: [], TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:4' })))
      .toEqual({ run: true, why: 'changed: taskDefinition' });
    expect(planUpdate(before, props({ UpdateCriteria: [], TimeoutSeconds: '900', RunSeconds: '800', SuccessCriteria: { Type: 'ALL_CONTAINERS' }, StopTasksOnDelete: 'false' })))
      .toEqual({ run: false, why: 'nothing the task runs with changed (only how the runner waits or decides)' });
    expect(changedRunInputs(before, props({ UpdateCriteria: [], Count: '3', Launch: { Type: 'EC2' }, ContainerOverrides: [] })))
      .toEqual(['containerOverrides', 'launchTarget', 'count']);
  });

  test('with updateCriteria the task definitions are compared; triggers run whatever runOn says', () => {
    expect(planUpdate(props(), props({ TaskDefinition: 'x' }))).toEqual({ compareCriteria: true });
    expect(planUpdate(props(), props({ Triggers: { schema: '43' } }))).toEqual({ run: true, why: 'triggers changed: schema' });
    expect(planUpdate(props({ RunOn: ['CREATE'], UpdateCriteria: [] }), props({ RunOn: ['CREATE'], UpdateCriteria: [], Triggers: { schema: '42', seed: '1' } })))
      .toEqual({ run: true, why: 'triggers changed: seed' });
    expect(planUpdate(props({ RunOn: ['CREATE'], UpdateCriteria: [] }), props({ RunOn: ['CREATE'], UpdateCriteria: [], TaskDefinition: 'x' })))
      .toEqual({ run: false, why: 'runOn does not include UPDATE and no trigger changed' });
  });

  test('removing a trigger runs nothing: the remaining triggers and runOn decide', () => {
    const createOnly = { RunOn: ['CREATE'], UpdateCriteria: [] };
    expect(planUpdate(props(createOnly), props({ ...createOnly, Triggers: {} })))
      .toEqual({ run: false, why: 'runOn does not include UPDATE and no trigger changed' });
    expect(planUpdate(props({ ...createOnly, Triggers: { schema: '42', seed: '1' } }), props({ ...createOnly, Triggers: { seed: '1' } })))
      .toEqual({ run: false, why: 'runOn does not include UPDATE and no trigger changed' });
    // With RunOn.UPDATE the rest of the change decides, as without triggers.
    expect(planUpdate(props({ UpdateCriteria: [] }), props({ UpdateCriteria: [], Triggers: {} })))
      .toEqual({ run: false, why: 'nothing the task runs with changed (only how the runner waits or decides)' });
  });

  test('properties of another version: unknown keys are ignored, unknown values compare as changed, and nothing throws', () => {
    const later = {
      ...RAW,
      NotificationTopic: 'arn:aws:sns:us-east-1:123456789012:ops',
      Launch: { ...RAW.Launch, Ipv6: 'ENABLED' },
      SuccessCriteria: { ...RAW.SuccessCriteria, IgnoreExitCodes: ['143'] },
    };
    const read = readEarlierProperties(later);
    expect(read).toEqual({ properties: props(), problems: [] });
    expect(planUpdate(readEarlierProperties({ ...later, UpdateCriteria: [] }).properties, props({ UpdateCriteria: [] }))).toEqual({ run: false, why: 'nothing the task runs with changed (only how the runner waits or decides)' });

    const unknownValues = readEarlierProperties({ ...RAW, Launch: { Type: 'MANAGED_INSTANCES' }, Count: 'many', RunOn: ['CREATE', 'DRIFT'] });
    expect(unknownValues.problems).toEqual([
      'Launch.Type is "MANAGED_INSTANCES"; expected one of FARGATE, EC2, CAPACITY_PROVIDERS, CLUSTER_DEFAULT, CONTAINER_INSTANCES',
      'RunOn has "DRIFT"; expected CREATE or UPDATE',
      'Count is "many"; expected a whole number from 1 to 10',
    ]);
    expect(changedRunInputs(unknownValues.properties, props())).toEqual(['launchTarget', 'count']);
    expect(readEarlierProperties(undefined).problems).toContain('ResourceProperties is not an object');
    expect(() => parseProperties({ ...RAW, Launch: { Type: 'MANAGED_INSTANCES' } })).toThrow(PropertiesError);
  });

  test('changedCriteria names the keys whose value changed, appeared or went', () => {
    const envs: Record<string, Record<string, string>> = { app: { DB_HOST: 'db-1', A: '1' }, worker: { B: '2' } };
    const next: Record<string, Record<string, string>> = { app: { DB_HOST: 'db-2', A: '1' }, worker: { C: '3' } };
    expect(changedCriteria(
      [{ containerName: 'app', environmentKeys: ['DB_HOST', 'A'] }, { containerName: 'worker', environmentKeys: ['B', 'C'] }],
      (n) => envs[n], (n) => next[n],
    )).toEqual(['app.DB_HOST', 'worker.B', 'worker.C']);
  });
});

describe('the tasks\' end', () => {
  const containers = [{ name: 'app', essential: true }, { name: 'envoy', essential: false }];
  const stopped = (codes: Record<string, number | undefined>, extra: object = {}) => ({
    taskArn: TASK,
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: Object.entries(codes).map(([name, exitCode]) => ({ name, ...(exitCode !== undefined ? { exitCode } : {}) })),
    ...extra,
  });

  test('the success criteria choose the containers that count', () => {
    expect(chosenContainers({ kind: 'ESSENTIAL_CONTAINERS', containers: [] }, containers)).toEqual(['app']);
    expect(chosenContainers({ kind: 'ALL_CONTAINERS', containers: [] }, containers)).toEqual(['app', 'envoy']);
    expect(chosenContainers({ kind: 'CONTAINERS', containers: ['envoy'] }, containers)).toEqual(['envoy']);
  });

  test('a task failed when a chosen container did not exit 0 or it never started', () => {
    expect(taskFailure(stopped({ app: 0, envoy: 137 }), ['app'])).toBeUndefined();
    expect(taskFailure(stopped({ app: 1, envoy: 0 }), ['app'])).toEqual({
      taskArn: TASK, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', exitCode: 1 }],
    });
    expect(taskFailure(stopped({ app: undefined }), ['app'])!.containers).toEqual([{ name: 'app' }]);
    expect(taskFailure(stopped({}, { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: x' }), [])).toMatchObject({ stopCode: 'TaskFailedToStart', containers: [] });
  });

  test('judge: running, succeeded, failed at once, timed out, lost', () => {
    const base = { missing: [], chosen: ['app'], startedAt: new Date(0), deadline: new Date(600_000), now: new Date(60_000) };
    const running = { taskArn: `${TASK}0`, lastStatus: 'RUNNING' };
    expect(judge({ ...base, tasks: [running] })).toEqual({ state: 'running' });
    expect(judge({ ...base, tasks: [stopped({ app: 0 })] })).toEqual({ state: 'succeeded' });
    expect(judge({ ...base, tasks: [stopped({ app: 2 }), running] })).toMatchObject({ state: 'failed', running: [running.taskArn] });
    expect(judge({ ...base, tasks: [running], now: new Date(600_000) })).toEqual({ state: 'timed-out', running: [running.taskArn] });
    expect(judge({ ...base, tasks: [], missing: [TASK] })).toEqual({ state: 'running' });
    expect(judge({ ...base, tasks: [], missing: [TASK], now: new Date(121_000) })).toEqual({ state: 'lost', missing: [TASK] });
  });
});

describe('reasons', () => {
  const failure: TaskFailure = {
    taskArn: TASK,
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'app', exitCode: 1 }],
  };
  const link = 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0123456789abcdef0123456789abcdef/logs?region=us-east-1';

  test('a failed task: its exit codes, stop code and reason, last log lines and console link, on one line', () => {
    const logs = new Map([[TASK, [{ container: 'app', lines: ['step 1 ok', 'ERROR: relation "users" does not exist\n  at migrate.js:12'] }]]]);
    expect(failureReason({ failures: [failure], total: 1, stoppedOthers: [], label: 'migrate:3', logs })).toBe(
      `The ECS task failed. Task ${TASK} (migrate:3) failed: container app exited with code 1 (stopped: EssentialContainerExited: Essential container in task exited). `
      + 'Last log lines of app: "step 1 ok" | "ERROR: relation \\"users\\" does not exist at migrate.js:12". '
      + `Logs: ${link}`);
  });

  test('a task that never started names its stop reason once, and containers only when they add to it', () => {
    const never: TaskFailure = {
      taskArn: TASK,
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: not found',
      containers: [{ name: 'app', reason: 'CannotPullContainerError: not found' }, { name: 'init', reason: 'ResourceInitializationError: secrets' }],
    };
    expect(describeTaskFailure(never, 'migrate:3')).toBe(`Task ${TASK} (migrate:3) never started: TaskFailedToStart: CannotPullContainerError: not found; `
      + 'container init did not run to its end (ResourceInitializationError: secrets).');
  });

  test('a timeout says how long the tasks had, what the timeout was, and which tasks it stopped', () => {
    expect(timeoutReason({
      running: [{ taskArn: TASK, lastStatus: 'RUNNING' }], runSeconds: 525, timeoutSeconds: 600, label: 'migrate:3', stopErrors: [], logs: new Map(),
    })).toBe('Timed out: the ECS task (migrate:3) did not finish within 8 min 45 s (timeout 10 min, less the poll interval and a minute to report). '
      + `Stopped 1 task(s): ${TASK} (RUNNING). Logs: ${link}`);
  });

  test('a placement failure counts equal reasons and names what it stopped', () => {
    expect(placementReason({
      operation: 'RunTask',
      asked: 3,
      started: 1,
      cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
      failures: [{ reason: 'RESOURCE:MEMORY', arn: 'ci-1' }, { reason: 'RESOURCE:MEMORY', arn: 'ci-1' }],
      stopped: [TASK],
    })).toBe(`RunTask started 1 of 3 task(s) in cluster prod: 2 x RESOURCE:MEMORY on ci-1. Stopped the 1 task(s) that did start: ${TASK}.`);
  });

  test('reasons never exceed the limit: the parts that fit go in, each cut on a character', () => {
    expect(fitReason(['short.'], ['x'.repeat(REASON_MAX_BYTES)])).toBe('short.');
    expect(jsonBytes(fitReason(['ü'.repeat(5000)]))).toBeLessThanOrEqual(REASON_MAX_BYTES);
    expect(fitReason(['ü'.repeat(5000)])).toMatch(/^ü+…$/);
    expect(truncate('"'.repeat(10), 9)).toBe('"""…'); // each quote takes 2 bytes escaped, the ellipsis 3
    expect(jsonBytes(truncate('"'.repeat(10), 9))).toBeLessThanOrEqual(9);
  });

  test('a container\'s reason is said once: with its exit code when it adds to the task\'s, else only as the task\'s', () => {
    const same: TaskFailure = {
      ...failure,
      stoppedReason: 'OutOfMemoryError: Container killed due to memory usage',
      containers: [
        { name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        { name: 'worker', exitCode: 2, reason: 'exit status 2' },
      ],
    };
    const reason = failureReason({ failures: [same], total: 1, stoppedOthers: [], label: 'migrate:3', logs: new Map() });
    expect(reason).toBe(`The ECS task failed. Task ${TASK} (migrate:3) failed: container app exited with code 137; container worker exited with code 2 `
      + '(exit status 2) (stopped: EssentialContainerExited: OutOfMemoryError: Container killed due to memory usage). '
      + `Logs: ${link}`);
    expect(reason.split('OutOfMemoryError')).toHaveLength(2);
  });

  test('10 failed tasks with 2 KB reasons: the described tasks\' exit codes, then stop reasons and a link, and the note of the others', () => {
    // Prepare: ten tasks, each container and task reason 2 KB, five long log lines each
    const long = (what: string) => `${what}: ${'x'.repeat(2048)}`;
    const arn = (i: number) => `${TASK.slice(0, -1)}${i}`;
    const many: TaskFailure[] = Array.from({ length: 10 }, (_, i) => ({
      taskArn: arn(i),
      stopCode: 'EssentialContainerExited',
      stoppedReason: long('task reason'),
      containers: [{ name: 'app', exitCode: 10 + i, reason: long('container reason') }],
    }));
    const logs = new Map(many.map((f) => [f.taskArn, [{ container: 'app', lines: Array(5).fill(long('log line')) }]]));

    // Act
    const reason = failureReason({ failures: many, total: 10, stoppedOthers: [], label: 'migrate:3', logs });

    // Assess
    expect(jsonBytes(reason)).toBeLessThanOrEqual(REASON_MAX_BYTES);
    expect(reason).toMatch(/^10 of 10 ECS tasks failed\. /);
    expect(reason).toMatch(/ 7 more failed task\(s\) are not described here \(the runner's log has them\)\.$/);
    for (const i of [0, 1, 2]) {
      expect(reason).toContain(`Task ${arn(i)} (migrate:3) failed: container app exited with code ${10 + i} (container reason: xxx`);
    }
    // Each container's reason and each task's stop reason once, cut to their share.
    expect(reason.split('(container reason: ')).toHaveLength(4);
    expect(reason.split('(stopped: EssentialContainerExited: task reason: xxx')).toHaveLength(4);
    // Then the console links, while they fit; the log lines come last.
    expect(reason).toContain(`Logs: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${taskIdOf(arn(0))}/logs?region=us-east-1`);
    expect(reason).not.toContain('Last log lines');
  });

  test('the budget goes to exit codes, then stop reasons, then console links, then log lines', () => {
    // A log line longer than the link, so that it cannot take the link's place.
    const logs = new Map([[TASK, [{ container: 'app', lines: [`ERROR: relation "users" does not exist ${'.'.repeat(120)}`] }]]]);
    const at = (maxBytes?: number) => failureReason({ failures: [failure], total: 1, stoppedOthers: [], label: 'migrate:3', logs, maxBytes });
    const exitCode = `The ECS task failed. Task ${TASK} (migrate:3) failed: container app exited with code 1`;
    const stopped = ' (stopped: EssentialContainerExited: Essential container in task exited)';
    const lines = ` Last log lines of app: "ERROR: relation \\"users\\" does not exist ${'.'.repeat(120)}".`;
    const consoleLink = ` Logs: ${link}`;

    // Everything fits: in reading order.
    expect(at()).toBe(`${exitCode}${stopped}.${lines}${consoleLink}`);
    // Less room: the log lines go first, then the link, then the stop reason; the exit code stays.
    expect(at(jsonBytes(at()) - 1)).toBe(`${exitCode}${stopped}.${consoleLink}`);
    expect(at(jsonBytes(`${exitCode}${stopped}.${consoleLink}`) - 1)).toBe(`${exitCode}${stopped}.`);
    expect(at(jsonBytes(`${exitCode}${stopped}.`) - 1)).toBe(`${exitCode}.`);
  });

  test('console links follow the partition, and no link is made from what is not a task ARN', () => {
    expect(taskLogsUrl('arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/abc')).toBe('https://cn-north-1.console.amazonaws.cn/ecs/v2/clusters/prod/tasks/abc/logs?region=cn-north-1');
    expect(taskLogsUrl('arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/prod/abc')).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//);
    expect(taskLogsUrl('unknown task')).toBeUndefined();
  });

  test('humanDuration', () => {
    expect([0, 59, 60, 525, 3600, 3661].map(humanDuration)).toEqual(['0 s', '59 s', '1 min', '8 min 45 s', '1 h', '1 h 1 min 1 s']);
  });
});

describe('what the reasons never show', () => {
  const SECRET_RAW = {
    ...RAW,
    ContainerOverrides: [{
      Name: 'app',
      Command: ['psql', 'postgres://admin:S3cr3t@db/app', '--set=ON_ERROR_STOP'],
      Environment: [{ Name: 'DB_PASSWORD', Value: 'hunter2-from-overrides' }, { Name: 'STEP', Value: '1' }],
    }],
  };
  const secrets = overrideSecrets(SECRET_RAW, RAW);
  const failure = (reason: string): TaskFailure => ({ taskArn: TASK, stopCode: 'TaskFailedToStart', stoppedReason: reason, containers: [] });

  test('overrideSecrets reads every environment value and the command, keeps the identifiers, and tolerates properties that do not parse', () => {
    expect(secrets.values).toEqual(['hunter2-from-overrides', '1', 'psql postgres://admin:S3cr3t@db/app --set=ON_ERROR_STOP', '1', 'npm run migrate']);
    expect(secrets.words).toEqual(['psql', 'postgres://admin:S3cr3t@db/app', '--set=ON_ERROR_STOP', 'npm', 'run', 'migrate']);
    expect(secrets.identifiers).toEqual(expect.arrayContaining(['prod', 'migrate:3', 'migrate', 'app']));
    expect(overrideSecrets(undefined, 'x', { ContainerOverrides: 'nope' }, { ContainerOverrides: [{ Environment: [{ Value: 42 }, 'x'], Command: 'ls' }] }))
      .toEqual({ values: ['42'], words: [], identifiers: [] });
  });

  test('a reason masks the overrides\' values wherever ECS or a log line repeats them, and keeps the identifiers', () => {
    // Prepare: ECS quotes the command; the container printed its environment
    const logs = new Map([[TASK, [{ container: 'app', lines: ['DB_PASSWORD is hunter2-from-overrides', 'connecting to postgres://admin:S3cr3t@db/app'] }]]]);

    // Act
    const reason = withRedactor(new Redactor(secrets), () => failureReason({
      failures: [failure('CannotStartContainerError: exec: "psql postgres://admin:S3cr3t@db/app --set=ON_ERROR_STOP": executable file not found')],
      total: 1,
      stoppedOthers: [],
      label: 'migrate:3',
      logs,
    }));

    // Assess
    expect(reason).toBe(`The ECS task failed. Task ${TASK} (migrate:3) never started: TaskFailedToStart: CannotStartContainerError: exec: "***": `
      + 'executable file not found. Last log lines of app: "DB_PASSWORD is ***" | "connecting to ***". '
      + 'Logs: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0123456789abcdef0123456789abcdef/logs?region=us-east-1');
  });

  test('a log line is masked before it is cut, so a cut never leaves part of a secret', () => {
    // The cut falls inside the password: masked after the cut, its first 20 characters would remain.
    const line = `${'x'.repeat(LOG_LINE_MAX_BYTES - 40)} postgres://admin:Sup3rS3cretPassw0rdThatIsLongerThanTheRest@db`;
    const logs = new Map([[TASK, [{ container: 'app', lines: [line] }]]]);
    const reason = failureReason({ failures: [failure('stopped')], total: 1, stoppedOthers: [], label: 'migrate:3', logs });
    expect(reason).not.toMatch(/Sup3r/);
  });
});

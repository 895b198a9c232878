/**
 * Every shipped handler stays in control when AWS misbehaves: each built bundle, with the environment and the timeout
 * its construct synthesizes, against a dependency that never answers, throttles every call, or answers 500
 * (fault-scenarios.ts). Each must return before its function's timeout, with what it could do done and the rest
 * reported. The only timing asserted is "returned before the timeout"; `npx projen bench:faults` measures the rest.
 *
 * The runs take up to a minute or two of waiting each (a hanging dependency is waited for until the time budget
 * says stop), so they run several at once, before the assertions.
 */
import {
  FAULT_MODES, FAULT_SCENARIOS, FaultMode, FaultRun, IS_COMPLETE_WITHOUT_ECS, PARROT_REFUSED_SERVICE, PARROT_SERVICES, callsTo, logged, metricSum,
  monitorInstance, runFaultScenario,
} from './fault-scenarios';
import { TASK_RUNNER_TASK } from './typical-runs';

const runs = new Map<string, FaultRun>();
const key = (handler: string, mode: FaultMode) => `${handler} ${mode}`;
const run = (handler: string, mode: FaultMode): FaultRun => {
  const found = runs.get(key(handler, mode));
  if (!found) throw new Error(`no run of ${handler} under ${mode}`);
  return found;
};

/** The longest function timeout, and time for the processes to start (the runs take up to three of these). */
const ALL_RUNS_MS = Math.max(...FAULT_SCENARIOS.map((s) => s.synthesize().timeoutMs)) + 60_000;

/** Runs at once: enough to overlap the waiting, few enough not to starve each other of CPU on a small machine. */
const CONCURRENCY = 6;

beforeAll(async () => {
  const jobs = [...FAULT_SCENARIOS, IS_COMPLETE_WITHOUT_ECS].flatMap((scenario) => FAULT_MODES.map((mode) => ({ scenario, mode })));
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      runs.set(key(job.scenario.handler, job.mode), await runFaultScenario(job.scenario, job.mode));
    }
  }));
}, 3 * ALL_RUNS_MS);

describe.each([...FAULT_SCENARIOS, IS_COMPLETE_WITHOUT_ECS].map((s) => [s.handler, s.faulted]))('%s, when %s', (handler) => {
  test.each(FAULT_MODES)('%s: returns before its function timeout, without a Lambda timeout', (mode) => {
    // Act
    const { run: result, timeoutMs } = run(handler, mode);

    // Assess
    expect(result.error?.name).not.toBe('Sandbox.Timedout');
    expect(result.error?.phase).not.toBe('init');
    expect(result.invokeMs).toBeLessThan(timeoutMs);
  });
});

describe('the parrot, when its DynamoDB dedupe table fails (and SNS refuses one of its messages)', () => {
  test.each(FAULT_MODES)('%s: every message still goes out without a claim; exactly the refused one\'s records go back to the queue', (mode) => {
    // Prepare
    const faulted = run('parrot', mode);
    const records: Array<{ messageId: string; body: string }> = (faulted.event as { Records: Array<{ messageId: string; body: string }> }).Records;
    const refused = records.filter((r) => JSON.parse(r.body).detail.group === `service:${PARROT_REFUSED_SERVICE}`).map((r) => r.messageId);

    // Assess
    const sent = callsTo(faulted, 'sns', 'Publish').filter((c) => c.status === 200).map((c) => String(c.input.Subject));
    const delivered = PARROT_SERVICES.filter((service) => service !== PARROT_REFUSED_SERVICE);
    expect(sent).toHaveLength(delivered.length);
    for (const service of delivered) expect(sent.some((s) => s.includes(`service ${service} `))).toBe(true);
    // Delivered records are not retried; the refused message's five are.
    expect(refused).toHaveLength(5);
    expect(faulted.run.result).toEqual({ batchItemFailures: refused.map((itemIdentifier) => ({ itemIdentifier })) });
    expect(logged(faulted, /go out without a claim \(a duplicate is better than none\)/)).toEqual([expect.objectContaining({ events: 30 })]);
    expect(metricSum(faulted, 'DedupeErrors')).toBeGreaterThanOrEqual(30);
    expect(metricSum(faulted, 'MessagesSent')).toBe(delivered.length);
    expect(metricSum(faulted, 'DeliveryFailures')).toBe(1);
  });

  test.each(['hang', 'throttle'] as const)('%s: the table is given up for the invocation, and the time budget says what it cut short', (mode) => {
    // Prepare
    const faulted = run('parrot', mode);

    // Assess
    expect(logged(faulted, 'the dedupe table does not answer in time; it is not used again in this invocation')).toHaveLength(1);
    expect(callsTo(faulted, 'dynamodb', 'UpdateItem')).toEqual([]);
    expect(callsTo(faulted, 'dynamodb', 'BatchGetItem')).toEqual([]);
    expect(metricSum(faulted, 'OutOfTime')).toBeGreaterThan(0);
    expect(logged(faulted, /^the time budget cut AWS calls short/)).toHaveLength(1);
  });
});

describe('the updater, when ECS UpdateContainerAgent fails', () => {
  test.each(FAULT_MODES)('%s: saves its state and metrics, and reports the cluster\'s error', (mode) => {
    // Prepare
    const faulted = run('updater', mode);

    // Assess
    expect(faulted.run.error).toBeUndefined();
    const [prod] = faulted.run.result.clusters;
    expect(prod).toMatchObject({ cluster: 'prod', requested: [], reported: expect.stringMatching(/could not finish prod/) });
    expect(prod.errors).toEqual([expect.stringMatching(/^UpdateContainerAgent i-0+\d: (TimeoutError|AbortError|ThrottlingException|InternalFailure)/)]);
    expect(callsTo(faulted, 'ecs', 'UpdateContainerAgent').length).toBeGreaterThanOrEqual(1);
    // The state: the last event run and the cluster's conditions.
    const written = callsTo(faulted, 'dynamodb', 'BatchWriteItem').filter((c) => c.status === 200)
      .flatMap((c) => Object.values(c.input.RequestItems as Record<string, Array<{ PutRequest: { Item: any } }>>).flat());
    expect(written.map((w) => w.PutRequest.Item.cluster.S)).toEqual(['$run', 'prod']);
    // The metrics and the message.
    expect(metricSum(faulted, 'OutdatedAgents', { ClusterName: 'prod' })).toBe(2);
    expect(metricSum(faulted, 'Errors', { ClusterName: 'prod' })).toBe(1);
    expect(callsTo(faulted, 'sns', 'Publish')).toEqual([
      expect.objectContaining({ status: 200, input: expect.objectContaining({ Subject: expect.stringMatching(/could not finish prod/) }) }),
    ]);
  });
});

describe('the monitor, when ECS fails in cluster blue, and Auto Scaling fails', () => {
  test.each(FAULT_MODES)('%s: writes green\'s failure count, acts on no instance, touches nothing of blue, and reports both', (mode) => {
    // Prepare
    const faulted = run('monitor', mode);

    // Assess
    expect(faulted.run.error).toBeUndefined();
    const counted = callsTo(faulted, 'dynamodb', 'UpdateItem').filter((c) => c.status === 200);
    expect(counted.map((c) => [c.input.Key.cluster.S, c.input.Key.instance.S])).toEqual([['green', monitorInstance('green', 0)]]);
    // Blue could not be read: its stored counts are not even loaded, and nothing is written for it.
    expect(faulted.calls.filter((c) => c.service === 'dynamodb' && JSON.stringify(c.input).includes('"blue"'))).toEqual([]);
    // Nothing is replaced: green's instance could not be looked up in its group; its count (2) waits for the next run.
    expect(faulted.calls.filter((c) => ['SetInstanceHealth', 'TerminateInstanceInAutoScalingGroup', 'DetachInstances', 'TerminateInstances'].includes(c.operation)))
      .toEqual([]);
    const clusters: Array<{ cluster: string; errors: string[]; done: unknown[] }> = faulted.run.result.clusters;
    expect(clusters.map((c) => [c.cluster, c.errors.length > 0, c.done])).toEqual([['green', true, []], ['blue', true, []]]);
    expect(metricSum(faulted, 'Errors', { ClusterName: 'green' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(faulted, 'Errors', { ClusterName: 'blue' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(faulted, 'DisconnectedAgents', { ClusterName: 'green' })).toBe(1);
    expect(callsTo(faulted, 'sns', 'Publish').filter((c) => c.status === 200)).toHaveLength(2);
  });
});

describe('the status API, when ECS fails', () => {
  test.each([
    ['hang', 504],
    ['throttle', 503],
    ['error500', 502],
  ] as const)('%s: answers %s as JSON with the Lambda request id', (mode, status) => {
    // Prepare
    const faulted = run('status API', mode);

    // Assess
    expect(faulted.run.error).toBeUndefined();
    const response = faulted.run.result;
    expect(response.statusCode).toBe(status);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ error: expect.any(String), requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(logged(faulted, 'answered')[0]).toMatchObject({ status, function_request_id: body.requestId });
    if (mode === 'throttle') expect(response.headers['Retry-After']).toBe('5');
  });
});

describe('the runner\'s onEvent, when ECS RunTask fails', () => {
  test.each(FAULT_MODES)('%s: fails the resource with why, after reading the task definition', (mode) => {
    // Prepare
    const faulted = run('runner onEvent', mode);

    // Assess
    expect(faulted.run.error).toMatchObject({ name: 'EcsTaskRunnerFailure', phase: 'invoke' });
    expect(faulted.run.error!.message).toMatch(/^Create of the task run failed: (TimeoutError|AbortError|ThrottlingException|InternalFailure)/);
    expect(callsTo(faulted, 'ecs', 'DescribeTaskDefinition').some((c) => c.status === 200)).toBe(true);
    expect(callsTo(faulted, 'ecs', 'RunTask').length).toBeGreaterThanOrEqual(1);
    // A RunTask without an answer, or answered 500, may have started the task: it is found and stopped before the failure.
    expect(callsTo(faulted, 'ecs', 'ListTasks').length).toBeGreaterThanOrEqual(1);
    if (mode === 'throttle') {
      expect(callsTo(faulted, 'ecs', 'StopTask')).toEqual([]);
      expect(faulted.run.error!.message).toMatch(/No task of this request was found running\.$/);
    } else {
      expect(callsTo(faulted, 'ecs', 'StopTask').map((c) => c.input.task)).toEqual([TASK_RUNNER_TASK.taskArn]);
      expect(faulted.run.error!.message).toMatch(new RegExp(`Stopped the 1 task\\(s\\) it had started: ${TASK_RUNNER_TASK.taskArn}\\.$`));
    }
  });
});

describe('the runner\'s isComplete, when CloudWatch Logs fails', () => {
  test.each(FAULT_MODES)('%s: fails the resource with the exit code it knows, without the log lines', (mode) => {
    // Prepare
    const faulted = run('runner isComplete', mode);

    // Assess
    expect(faulted.run.error).toMatchObject({ name: 'EcsTaskRunnerFailure', phase: 'invoke' });
    expect(faulted.run.error!.message).toMatch(/container app exited with code 1/);
    expect(faulted.run.error!.message).not.toMatch(/migration 0042 failed/);
    expect(metricSum(faulted, 'RunsFailed')).toBe(1);
    const why = mode === 'error500' ? /^could not read the container's last log lines/ : /^the containers' last log lines did not come in time/;
    expect(logged(faulted, why)).toHaveLength(1);
  });
});

describe('the runner\'s isComplete, when ECS DescribeTasks fails', () => {
  test.each(FAULT_MODES)('%s: answers "not complete" so the next poll tries again, before the run\'s deadline', (mode) => {
    // Prepare
    const faulted = run(IS_COMPLETE_WITHOUT_ECS.handler, mode);

    // Assess
    expect(faulted.run.error).toBeUndefined();
    expect(faulted.run.result).toEqual({ IsComplete: false });
    expect(logged(faulted, 'could not check the tasks; trying again at the next poll')).toHaveLength(1);
  });
});

/**
 * The handler kit: configuration once per container with every problem together, the request id on every
 * log line, metrics flushed even when the invocation fails, and an Errors metric with a structured error log.
 */
import type { Context } from 'aws-lambda';
import { BudgetExhausted, FINAL_MARGIN_MS, currentBudget } from '../../lambda/common/budget';
import { ConfigError, env, readConfig } from '../../lambda/common/config';
import { DEFAULT_RESERVE_MS, ERRORS_METRIC, OUT_OF_TIME_METRIC, lambdaHandler } from '../../lambda/common/handler';
import { MetricUnit, logger } from '../../lambda/common/powertools';

const ORIGINAL_ENV = { ...process.env };
let lines: string[];
let spies: jest.SpyInstance[];

beforeEach(() => {
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CdkEcsOps';
  process.env.POWERTOOLS_SERVICE_NAME = 'kit-test';
  lines = [];
  spies = [process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  }) as any));
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
  process.env = { ...ORIGINAL_ENV };
});

function json(): any[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

const emf = () => json().filter((l) => l._aws?.CloudWatchMetrics);
const logLines = () => json().filter((l) => !l._aws);

function context(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/fn',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 42_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('lambdaHandler', () => {
  test('reads the configuration once per container and passes it to every invocation', async () => {
    // Prepare
    const read = jest.fn(() => readConfig({ CLUSTERS: env.list({ minItems: 1 }) }, { CLUSTERS: 'a,b' }));
    const handler = lambdaHandler({ service: 'kit-test', config: read, run: async (_e: unknown, { config }) => config.CLUSTERS });

    // Act
    const first = await handler({}, context('r1'));
    const second = await handler({}, context('r2'));

    // Assess
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['a', 'b']);
    expect(read).toHaveBeenCalledTimes(1);
  });

  test('fails every invocation with one ConfigError naming every problem, logs them and publishes Errors, and never runs', async () => {
    // Prepare
    const run = jest.fn(async () => 'ran');
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => readConfig({ A: env.int({ min: 1 }), B: env.bool() }, { A: '0', B: 'yes' }),
      run,
    });

    // Act
    const error = await handler({}, context('r1')).catch((e: unknown) => e);
    await expect(handler({}, context('r2'))).rejects.toBeInstanceOf(ConfigError);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'A is "0"; expected a whole number from 1 to 9007199254740991',
      'B is "yes"; expected "true" or "false"',
    ]);
    expect(run).not.toHaveBeenCalled();
    const failures = logLines().filter((l) => l.level === 'ERROR');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      message: 'invalid function configuration; nothing was done',
      function_request_id: 'r1',
      problems: (error as ConfigError).problems,
    });
    expect(emf().map((d) => d[ERRORS_METRIC])).toEqual([1, 1]);
  });

  test('puts the request id on every log line, of the shared logger and of loggers created from it', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => ({}),
      run: async () => {
        logger.info('from the handler');
        logger.createChild({ persistentLogAttributes: { cluster: 'prod' } }).warn('from a child');
        return 'ok';
      },
    });

    // Act
    await handler({}, context('request-1'));
    await handler({}, context('request-2'));

    // Assess
    expect(logLines().map((l) => [l.message, l.function_request_id, l.cluster])).toEqual([
      ['from the handler', 'request-1', undefined],
      ['from a child', 'request-1', 'prod'],
      ['from the handler', 'request-2', undefined],
      ['from a child', 'request-2', 'prod'],
    ]);
  });

  test('flushes every metrics buffer when the invocation fails, adds Errors and a structured error log, and rethrows', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => ({}),
      run: async (_event: unknown, { metrics }) => {
        metrics({ ClusterName: 'prod' }).addMetric('Checked', MetricUnit.Count, 4);
        throw new Error('DescribeContainerInstances failed');
      },
    });

    // Act
    const act = handler({}, context('r1'));

    // Assess
    await expect(act).rejects.toThrow('DescribeContainerInstances failed');
    const docs = emf();
    expect(docs).toEqual(expect.arrayContaining([
      expect.objectContaining({ ClusterName: 'prod', Checked: 4, service: 'kit-test' }),
      expect.objectContaining({ [ERRORS_METRIC]: 1, service: 'kit-test' }),
    ]));
    expect(docs.find((d) => d[ERRORS_METRIC] !== undefined)).not.toHaveProperty('ClusterName');
    expect(logLines().filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({ message: 'invocation failed', error: 'Error: DescribeContainerInstances failed', function_request_id: 'r1' }),
    ]);
  });

  test('flushes one document per dimension set after a successful invocation, and none for an empty buffer', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => ({}),
      run: async (_event: unknown, { metrics }) => {
        metrics({ ClusterName: 'a' }).addMetric('Checked', MetricUnit.Count, 1);
        metrics({ ClusterName: 'b' }).addMetric('Checked', MetricUnit.Count, 2);
        metrics({ ClusterName: 'a' }).addMetric('Replaced', MetricUnit.Count, 0);
        metrics(); // taken, left empty
        return 'done';
      },
    });

    // Act
    await handler({}, context('r1'));

    // Assess
    expect(emf().map((d) => [d.ClusterName, d.Checked, d.Replaced])).toEqual([['a', 1, 0], ['b', 2, undefined]]);
    expect(lines.some((l) => /No application metrics to publish/.test(l))).toBe(false);
  });

  test('gives a run outside Lambda a request id and no deadline', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => ({}),
      run: async (_event: unknown, { context: ctx, remainingTimeMs }) => ({ id: ctx.awsRequestId, left: remainingTimeMs() }),
    });

    // Act
    const result = await handler({});

    // Assess
    expect(result.id).toMatch(/^local-/);
    expect(result.left).toBeUndefined();
  });

  test('runs under a time budget: the remaining time less the declared reserve and a margin, current for all it calls', async () => {
    // Prepare
    const seen: Array<{ left: number; bookkeeping: number; current: boolean }> = [];
    const handler = lambdaHandler({
      service: 'kit-test',
      reserveMs: 10_000,
      config: () => ({}),
      run: async (_event: unknown, { budget }) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push({ left: budget.remainingMs(), bookkeeping: budget.bookkeeping.remainingMs(), current: currentBudget() === budget });
        return 'done';
      },
    });

    // Act
    await handler({}, context('r1'));

    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0].current).toBe(true);
    expect(seen[0].left).toBeLessThanOrEqual(42_000 - 10_000 - FINAL_MARGIN_MS);
    expect(seen[0].left).toBeGreaterThan(42_000 - 10_000 - FINAL_MARGIN_MS - 1_000);
    expect(seen[0].bookkeeping - seen[0].left).toBe(10_000);
    expect(currentBudget()).toBeUndefined();
  });

  test('keeps DEFAULT_RESERVE_MS for a handler that declares no reserve, and no deadline outside Lambda', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      config: () => ({}),
      run: async (_event: unknown, { budget }) => ({ reserve: budget.bookkeeping.deadline - budget.deadline, left: budget.remainingMs() }),
    });

    // Act
    const inLambda = await handler({}, context('r1'));
    const outside = await handler({});

    // Assess
    expect(inLambda.reserve).toBe(DEFAULT_RESERVE_MS);
    expect(outside.left).toBe(Number.POSITIVE_INFINITY);
  });

  test('logs and counts the AWS calls the budget cut short (OutOfTime), and says an out-of-time failure is one', async () => {
    // Prepare
    const handler = lambdaHandler({
      service: 'kit-test',
      reserveMs: 5_000,
      config: () => ({}),
      run: async (_event: unknown, { budget }) => {
        budget.noteRefused();
        budget.bookkeeping.noteRetryStopped();
        throw new BudgetExhausted('reading the clusters');
      },
    });

    // Act
    const act = handler({}, context('r1'));

    // Assess
    await expect(act).rejects.toBeInstanceOf(BudgetExhausted);
    expect(logLines().filter((l) => l.level !== 'INFO').map((l) => [l.level, l.message, l.error, l.callsRefused, l.retriesStopped])).toEqual([
      ['ERROR', 'invocation stopped: out of time', 'not done: out of time (reading the clusters)', undefined, undefined],
      ['WARN', 'the time budget cut AWS calls short; what they were for is reported as not done', undefined, 1, 1],
    ]);
    expect(emf()).toEqual([expect.objectContaining({ [ERRORS_METRIC]: 1, [OUT_OF_TIME_METRIC]: 2, service: 'kit-test' })]);
  });

  test('publishes no OutOfTime when nothing was cut short', async () => {
    // Prepare
    const handler = lambdaHandler({ service: 'kit-test', config: () => ({}), run: async () => 'done' });

    // Act
    await handler({}, context('r1'));

    // Assess
    expect(emf().filter((d) => d[OUT_OF_TIME_METRIC] !== undefined)).toEqual([]);
    expect(logLines().filter((l) => l.level === 'WARN')).toEqual([]);
  });
});

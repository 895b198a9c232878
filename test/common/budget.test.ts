/**
 * The time budget: deadlines and their reserve on a fake clock, the current budget of concurrent invocations kept
 * apart, and the SDK client settings (clientConfig) that bound every AWS call by it, against the AWS stand-in.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CLIENT_DEFAULTS, clientConfig, describeError } from '../../lambda/common/aws';
import {
  Budget, BudgetExhausted, FINAL_MARGIN_MS, InvocationBudget, MIN_CALL_MS, currentBudget, isOutOfTime, markOutOfTime,
} from '../../lambda/common/budget';
import { AwsStandin } from '../support/aws-standin';

describe('Budget (fake clock)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-03-02T08:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('an invocation\'s work ends its reserve and a margin before Lambda\'s deadline; its bookkeeping, the margin before', () => {
    // Prepare
    const start = Date.now();

    // Act
    const budget = InvocationBudget.start({ remainingMs: 60_000, reserveMs: 8_000 });

    // Assess
    expect(budget.deadline).toBe(start + 60_000 - 8_000 - FINAL_MARGIN_MS);
    expect(budget.bookkeeping.deadline).toBe(start + 60_000 - FINAL_MARGIN_MS);
    expect(budget.remainingMs()).toBe(51_000);
    jest.advanceTimersByTime(51_000 - MIN_CALL_MS);
    expect(budget.expired()).toBe(false);
    jest.advanceTimersByTime(1);
    expect(budget.expired()).toBe(true);
    expect(budget.remainingMs()).toBe(MIN_CALL_MS - 1);
    expect(budget.bookkeeping.expired()).toBe(false);
    expect(budget.bookkeeping.hasTimeFor(8_000)).toBe(true);
  });

  test('a reserve larger than the time left leaves a budget that is spent from the start, and a bookkeeping budget that is not', () => {
    // Act
    const budget = InvocationBudget.start({ remainingMs: 5_000, reserveMs: 8_000 });

    // Assess
    expect(budget.expired()).toBe(true);
    expect(budget.remainingMs()).toBe(0);
    expect(() => budget.check('reading the clusters')).toThrow(new BudgetExhausted('reading the clusters'));
    expect(budget.bookkeeping.remainingMs()).toBe(4_000);
  });

  test('outside Lambda there is no deadline: nothing expires, the signal never aborts, race waits for the promise', async () => {
    // Prepare
    const budget = InvocationBudget.start({ remainingMs: Number.POSITIVE_INFINITY, reserveMs: 8_000 });

    // Act
    jest.advanceTimersByTime(365 * 86_400_000);
    const raced = budget.race(Promise.resolve('answer'));

    // Assess
    expect(budget.remainingMs()).toBe(Number.POSITIVE_INFINITY);
    expect(budget.expired()).toBe(false);
    expect(budget.signal.aborted).toBe(false);
    expect(budget.bookkeeping.expired()).toBe(false);
    await expect(raced).resolves.toBe('answer');
  });

  test('the signal aborts at the deadline with a BudgetExhausted reason', () => {
    // Prepare
    const budget = Budget.until(Date.now() + 2_000);
    const signal = budget.signal;

    // Act
    jest.advanceTimersByTime(1_999);
    const before = signal.aborted;
    jest.advanceTimersByTime(1);

    // Assess
    expect(before).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(BudgetExhausted);
    expect(isOutOfTime(signal.reason)).toBe(true);
  });

  test('a child ends at the earlier of its maxMs and its parent\'s deadline less its reserve, and counts in its parent\'s tally', () => {
    // Prepare
    const parent = Budget.until(Date.now() + 30_000);

    // Act
    const short = parent.child({ maxMs: 10_000 });
    const reserved = parent.child({ reserveMs: 5_000 });
    const both = parent.child({ maxMs: 40_000, reserveMs: 5_000 });
    short.noteRefused();
    reserved.noteRetryStopped();

    // Assess
    expect(short.remainingMs()).toBe(10_000);
    expect(reserved.remainingMs()).toBe(25_000);
    expect(both.remainingMs()).toBe(25_000);
    expect(parent.tally).toEqual({ callsRefused: 1, retriesStopped: 1 });
  });

  test('an invocation\'s tally counts what its work, its children and its bookkeeping cut short', () => {
    // Prepare
    const budget = InvocationBudget.start({ remainingMs: 60_000, reserveMs: 8_000 });

    // Act
    budget.child({ maxMs: 5_000 }).noteRefused();
    budget.bookkeeping.noteRetryStopped();

    // Assess
    expect(budget.tally).toEqual({ callsRefused: 1, retriesStopped: 1 });
  });

  test('race rejects with BudgetExhausted once less than the margin is left, and passes on what settles first', async () => {
    // Prepare
    const budget = Budget.until(Date.now() + 1_000);
    const never = new Promise<string>(() => undefined);

    // Act
    const late = budget.race(never, 'reading the logs', 250);
    jest.advanceTimersByTime(750);
    const failing = budget.race(Promise.reject(new Error('boom')));

    // Assess
    await expect(late).rejects.toThrow('not done: out of time (reading the logs)');
    await expect(failing).rejects.toThrow('boom');
  });

  test('race rejects at once when the budget is already spent', async () => {
    // Prepare
    const budget = Budget.until(Date.now() - 1);

    // Act
    const raced = budget.race(Promise.resolve('too late'), 'claiming');

    // Assess
    await expect(raced).rejects.toBeInstanceOf(BudgetExhausted);
  });
});

describe('the current budget', () => {
  test('within() makes a budget current for everything it awaits, and two at once keep theirs apart', async () => {
    // Prepare
    const first = Budget.until(Date.now() + 10_000);
    const second = Budget.until(Date.now() + 20_000);
    const seen = async (label: string) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return [label, currentBudget()] as const;
    };

    // Act
    const [a, b] = await Promise.all([
      first.within(async () => [await seen('first'), await seen('first again')]),
      second.within(async () => [await seen('second'), await seen('second again')]),
    ]);

    // Assess
    expect(a.map(([, budget]) => budget)).toEqual([first, first]);
    expect(b.map(([, budget]) => budget)).toEqual([second, second]);
    expect(currentBudget()).toBeUndefined();
  });
});

describe('isOutOfTime', () => {
  test.each([
    ['a BudgetExhausted', new BudgetExhausted(), true],
    ['an error marked as cut short by the budget', (() => {
      const e = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      markOutOfTime(e);
      return e;
    })(), true],
    ['an AbortError whose cause is a BudgetExhausted', Object.assign(new Error('Request aborted'), { name: 'AbortError', cause: new BudgetExhausted() }), true],
    ['a ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), false],
    ['an AbortError of the caller', Object.assign(new Error('Request aborted'), { name: 'AbortError' }), false],
    ['a string', 'BudgetExhausted', false],
  ])('%s', (_what, error, expected) => {
    expect(isOutOfTime(error)).toBe(expected);
  });

  test('describeError says "not done: out of time" for both kinds', () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    markOutOfTime(throttled);

    // Act
    const described = [describeError(new BudgetExhausted('claiming the event')), describeError(throttled)];

    // Assess
    expect(described).toEqual([
      'not done: out of time (claiming the event)',
      'ThrottlingException (HTTP 400): Rate exceeded; not retried: out of time',
    ]);
  });
});

describe('clientConfig: SDK clients bounded by the current budget (against the AWS stand-in)', () => {
  const standin = new AwsStandin();
  const endpoint = () => ({
    endpoint: standin.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'secret', sessionToken: 'token' },
  });

  beforeAll(async () => {
    await standin.start();
  });
  beforeEach(() => {
    standin.reset();
    standin.on('ecs', 'ListClusters', { clusterArns: [] });
  });
  afterAll(() => standin.stop());

  test('a call is not started once the budget is spent: BudgetExhausted, nothing sent, counted as refused', async () => {
    // Prepare
    const ecs = new ECSClient({ ...endpoint(), ...clientConfig() });
    const budget = Budget.until(Date.now() + MIN_CALL_MS - 1);

    // Act
    const error = await budget.within(() => ecs.send(new ListClustersCommand({}))).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(BudgetExhausted);
    expect(isOutOfTime(error)).toBe(true);
    expect(standin.calls).toEqual([]);
    expect(budget.tally).toEqual({ callsRefused: 1, retriesStopped: 0 });
  });

  test('throttled calls stop retrying before the deadline: the last ThrottlingException, marked out of time', async () => {
    // Prepare
    standin.fault({ service: 'ecs', mode: 'throttle' });
    const ecs = new ECSClient({ ...endpoint(), ...clientConfig({ maxAttempts: 20 }) });
    const budget = Budget.until(Date.now() + 2_500);

    // Act
    const error = await budget.within(() => ecs.send(new ListClustersCommand({}))).catch((e) => e);
    const returnedAt = Date.now();

    // Assess
    expect(error.name).toBe('ThrottlingException');
    expect(isOutOfTime(error)).toBe(true);
    expect(returnedAt).toBeLessThanOrEqual(budget.deadline);
    expect(standin.calls.length).toBeGreaterThanOrEqual(1);
    expect(standin.calls.length).toBeLessThan(20);
    expect(budget.tally.retriesStopped).toBe(1);
  });

  test('a request that never answers ends at the budget\'s deadline, not at the client\'s request timeout', async () => {
    // Prepare
    standin.fault({ service: 'dynamodb', mode: 'hang' });
    const dynamodb = new DynamoDBClient({ ...endpoint(), ...clientConfig() });
    const budget = Budget.until(Date.now() + 1_000);

    // Act
    const error = await budget.within(() => dynamodb.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }))).catch((e) => e);
    const returnedAt = Date.now();

    // Assess
    expect(isOutOfTime(error)).toBe(true);
    expect(returnedAt).toBeLessThan(budget.deadline + CLIENT_DEFAULTS.requestTimeoutMs);
    expect(standin.calls.map((c) => c.fault)).toContain('hang');
  });

  test('without a budget, a request that never answers fails with a TimeoutError after the request timeout, each try', async () => {
    // Prepare
    standin.fault({ service: 'ecs', mode: 'hang' });
    const ecs = new ECSClient({ ...endpoint(), ...clientConfig({ requestTimeoutMs: 200, maxAttempts: 2 }) });

    // Act
    const error = await ecs.send(new ListClustersCommand({})).catch((e) => e);

    // Assess
    expect(error.name).toBe('TimeoutError');
    expect(isOutOfTime(error)).toBe(false);
    expect(error.$metadata.attempts).toBe(2);
    expect(standin.calls).toHaveLength(2);
  });

  test('a caller\'s own abort signal still aborts the call under a budget', async () => {
    // Prepare
    standin.fault({ service: 'ecs', mode: 'hang' });
    const ecs = new ECSClient({ ...endpoint(), ...clientConfig() });
    const budget = Budget.until(Date.now() + 60_000);
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('the caller gave up')), 100);

    // Act
    const error = await budget.within(() => ecs.send(new ListClustersCommand({}), { abortSignal: caller.signal })).catch((e) => e);

    // Assess
    expect(error.name).toBe('AbortError');
    expect(isOutOfTime(error)).toBe(false);
  });

  test('each client gets a retry strategy and an HTTP handler of its own (one client\'s throttling does not slow another)', () => {
    // Act
    const [a, b] = [clientConfig(), clientConfig()];

    // Assess
    expect(a.retryStrategy).not.toBe(b.retryStrategy);
    expect(a.requestHandler).not.toBe(b.requestHandler);
    expect(a.maxAttempts).toBe(CLIENT_DEFAULTS.maxAttempts);
  });
});

describe('every SDK client in the handlers', () => {
  test('is made with clientConfig(), so it has timeouts and budget-bounded retries', () => {
    // Prepare
    const root = join(__dirname, '..', '..', 'lambda');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
      });
    })(root);

    // Act
    const made = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/new (?:sdk\.)?(\w+Client)\(([^)]*\)?)\)/g)]
      .map((m) => ({ file: relative(root, file), client: m[1], config: m[2] })));

    // Assess
    expect(made.length).toBeGreaterThanOrEqual(16);
    expect(made.filter((m) => !/clientConfig\(/.test(m.config))).toEqual([]);
  });
});

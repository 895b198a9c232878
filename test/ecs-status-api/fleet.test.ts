/**
 * Reading many clusters: the bound on calls in flight, pipelining, and what a failure, a vanished service or the
 * deadline does to the answer. ECS is a small scripted `send` here; the handler tests use the fake fleet.
 */
import { ShownError } from '../../lambda/common/redact';
import { Limiter, listClusterNames, readClusters } from '../../lambda/ecs-status-api/fleet';
import { serverError, throttlingError } from '../support/fake-fleet/errors';

const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A scripted ECS: `services[cluster]` service names; calls take `latencyMs`; `fail` may throw for a call. */
function scriptedEcs(options: {
  services: Record<string, number>;
  latencyMs?: number;
  fail?: (command: string, input: any) => Error | undefined;
  missing?: string[];
  clusterTags?: Record<string, Record<string, string>>;
}) {
  const calls: Array<{ command: string; input: any }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (command: any) => {
    const name = command.constructor.name.replace(/Command$/, '');
    calls.push({ command: name, input: command.input });
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await sleep(options.latencyMs ?? 1);
      const error = options.fail?.(name, command.input);
      if (error) throw error;
      const input = command.input;
      switch (name) {
        case 'ListClusters':
          return { clusterArns: Object.keys(options.services).map((c) => `${ARN}:cluster/${c}`) };
        case 'ListServices': {
          const all = Array.from({ length: options.services[input.cluster] ?? 0 }, (_, i) => `${ARN}:service/${input.cluster}/s${String(i).padStart(3, '0')}`);
          const start = input.nextToken ? Number(input.nextToken) : 0;
          const end = start + input.maxResults;
          return { serviceArns: all.slice(start, end), ...(end < all.length ? { nextToken: String(end) } : {}) };
        }
        case 'DescribeServices': {
          if (input.services.length > 10) throw new Error('more than 10 services');
          const found = input.services.filter((arn: string) => !options.missing?.includes(arn));
          return {
            services: found.map((arn: string) => ({ serviceArn: arn, serviceName: arn.split('/').pop(), status: 'ACTIVE', tags: [{ key: 'team', value: 'a' }] })),
            failures: input.services.filter((arn: string) => options.missing?.includes(arn)).map((arn: string) => ({ arn, reason: 'MISSING' })),
          };
        }
        case 'DescribeClusters':
          return {
            clusters: input.clusters.filter((c: string) => options.clusterTags?.[c]).map((c: string) => ({
              clusterName: c, clusterArn: `${ARN}:cluster/${c}`, tags: Object.entries(options.clusterTags![c]).map(([key, value]) => ({ key, value })),
            })),
            failures: input.clusters.filter((c: string) => !options.clusterTags?.[c]).map((c: string) => ({ arn: `${ARN}:cluster/${c}`, reason: 'MISSING' })),
          };
      }
      throw new Error(`not scripted: ${name}`);
    } finally {
      inFlight -= 1;
    }
  };
  return { ecs: { send } as any, calls, maxInFlight: () => maxInFlight };
}

const count = (calls: Array<{ command: string }>, command: string) => calls.filter((c) => c.command === command).length;

describe('Limiter', () => {
  test('runs at most its limit at once, in the order asked', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];

    await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(async () => {
      started.push(i);
      running += 1;
      most = Math.max(most, running);
      await sleep(2);
      running -= 1;
    })));

    expect(most).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('a task that fails gives its place back', async () => {
    const limiter = new Limiter(1);

    await expect(limiter.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });

  test('when the signal aborts, tasks still waiting are rejected and never start', async () => {
    const controller = new AbortController();
    const limiter = new Limiter(1, controller.signal);
    const ran: string[] = [];

    const first = limiter.run(async () => { await sleep(20); ran.push('first'); });
    const waiting = limiter.run(async () => { ran.push('waiting'); });
    controller.abort(new Error('deadline'));

    await expect(waiting).rejects.toThrow('deadline');
    await first;
    expect(ran).toEqual(['first']);
    await expect(limiter.run(async () => 'after')).rejects.toThrow('deadline');
  });

  test('fails on a limit that is not a positive whole number', () => {
    expect(() => new Limiter(0)).toThrow(/positive integer/);
  });
});

describe('readClusters', () => {
  test('20 clusters of 100 services: one ListServices and ten DescribeServices each, never more than 20 calls in flight', async () => {
    const services = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, 100]));
    const { ecs, calls, maxInFlight } = scriptedEcs({ services, latencyMs: 3 });

    const reads = await readClusters(ecs, Object.keys(services));

    expect(reads.every((r) => 'services' in r && r.services.length === 100)).toBe(true);
    expect(count(calls, 'ListServices')).toBe(20);
    expect(count(calls, 'DescribeServices')).toBe(200);
    expect(calls.filter((c) => c.command === 'DescribeServices').every((c) => c.input.services.length === 10 && c.input.include[0] === 'TAGS')).toBe(true);
    expect(calls.filter((c) => c.command === 'ListServices').every((c) => c.input.maxResults === 100)).toBe(true);
    expect(maxInFlight()).toBe(20);
  });

  test('lists a cluster to its last page and describes every page, a short last batch too', async () => {
    const { ecs, calls } = scriptedEcs({ services: { big: 257 } });

    const [read] = await readClusters(ecs, ['big']);

    expect('services' in read && read.services.map((s) => s.serviceName)).toHaveLength(257);
    expect(calls.filter((c) => c.command === 'ListServices').map((c) => c.input.nextToken)).toEqual([undefined, '100', '200']);
    expect(calls.filter((c) => c.command === 'DescribeServices').map((c) => c.input.services.length))
      .toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 7]);
  });

  test('describes a page while the next one is listed', async () => {
    const { ecs, calls } = scriptedEcs({ services: { big: 150 }, latencyMs: 5 });

    await readClusters(ecs, ['big']);

    const order = calls.map((c) => c.command);
    expect(order.indexOf('DescribeServices')).toBeLessThan(order.lastIndexOf('ListServices'));
  });

  test('a service deleted between ListServices and DescribeServices is left out, not an error', async () => {
    const { ecs } = scriptedEcs({ services: { prod: 3 }, missing: [`${ARN}:service/prod/s001`] });

    const [read] = await readClusters(ecs, ['prod']);

    expect(read).toEqual({ cluster: 'prod', services: [expect.objectContaining({ serviceName: 's000' }), expect.objectContaining({ serviceName: 's002' })] });
  });

  test('a cluster whose call fails is reported with the error; the other clusters are read', async () => {
    const { ecs } = scriptedEcs({
      services: { a: 30, b: 30, c: 30 },
      fail: (command, input) => {
        if (command === 'DescribeServices' && input.cluster === 'b' && input.services[0].endsWith('s020')) return throttlingError('ecs');
        if (command === 'ListServices' && input.cluster === 'c') return serverError('ecs');
        return undefined;
      },
    });

    const reads = await readClusters(ecs, ['a', 'b', 'c']);

    expect(reads).toEqual([
      { cluster: 'a', services: expect.any(Array) },
      { cluster: 'b', error: 'ThrottlingException (HTTP 400)', detail: 'ThrottlingException (HTTP 400): Rate exceeded' },
      { cluster: 'c', error: 'ServerException (HTTP 500)', detail: 'ServerException (HTTP 500): Service Unavailable. Please try again later.' },
    ]);
  });

  test('at the deadline the clusters not read yet are reported, and no call starts after it', async () => {
    const { ecs, calls } = scriptedEcs({ services: { fast: 5, slow: 500 }, latencyMs: 15 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new ShownError('not read within 0.05 s', 'DeadlineExceeded')), 50);

    const reads = await readClusters(ecs, ['fast', 'slow'], { concurrency: 2, signal: controller.signal });
    const callsAtDeadline = calls.length;
    await sleep(40);

    expect(reads).toEqual([
      { cluster: 'fast', services: expect.any(Array) },
      { cluster: 'slow', error: 'DeadlineExceeded: not read within 0.05 s', detail: 'DeadlineExceeded: not read within 0.05 s' },
    ]);
    expect(calls.length).toBe(callsAtDeadline);
  });

  test('onRead gets each cluster as soon as it is read, before the read ends, and never a cluster cut off by the deadline', async () => {
    const { ecs } = scriptedEcs({ services: { small: 3, big: 300 }, latencyMs: 10 });
    const controller = new AbortController();
    const seen: string[] = [];
    let ended = false;

    const read = readClusters(ecs, ['small', 'big'], {
      concurrency: 2, signal: controller.signal, onRead: (r) => seen.push(`${r.cluster}${ended ? ' after the end' : ''}`),
    });
    setTimeout(() => controller.abort(new Error('deadline')), 60);
    const reads = await read;
    ended = true;
    await sleep(100);

    expect(seen).toEqual(['small']);
    expect(reads.map((r) => [r.cluster, 'error' in r])).toEqual([['small', false], ['big', true]]);
  });

  test('with cluster tags: one DescribeClusters per 100 clusters, and a cluster without them is reported', async () => {
    const services = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`c${i}`, 1]));
    const clusterTags = Object.fromEntries(Object.keys(services).filter((c) => c !== 'c7').map((c) => [c, { environment: 'prod' }]));
    const { ecs, calls } = scriptedEcs({ services, clusterTags });

    const reads = await readClusters(ecs, Object.keys(services), { clusterTags: true });

    expect(calls.filter((c) => c.command === 'DescribeClusters').map((c) => [c.input.clusters.length, c.input.include])).toEqual([[100, ['TAGS']], [50, ['TAGS']]]);
    expect(reads[0]).toEqual({ cluster: 'c0', services: expect.any(Array), tags: { environment: 'prod' } });
    expect(reads[7]).toEqual({ cluster: 'c7', error: 'Error: DescribeClusters: MISSING', detail: 'Error: DescribeClusters: MISSING' });
  });

  test('listClusterNames pages ListClusters to the end and keeps the names', async () => {
    const pages = [{ clusterArns: [`${ARN}:cluster/a`, `${ARN}:cluster/b/with-slash`], nextToken: 't1' }, { clusterArns: [`${ARN}:cluster/c`] }];
    const inputs: any[] = [];
    const ecs = { send: async (command: any) => { inputs.push(command.input); return pages[inputs.length - 1]; } } as any;

    expect(await listClusterNames(ecs)).toEqual(['a', 'b/with-slash', 'c']);
    expect(inputs).toEqual([{ maxResults: 100, nextToken: undefined }, { maxResults: 100, nextToken: 't1' }]);
  });
});

import { chunk, describeError, describeInBatches, mapWithConcurrency, paginate, settleWithConcurrency } from '../../lambda/common/aws';

describe('paginate', () => {
  test('follows next tokens to the end and keeps item order', async () => {
    // Prepare: 3 pages
    const pages: Record<string, { items: number[]; next?: string }> = {
      start: { items: [1, 2], next: 'a' },
      a: { items: [3], next: 'b' },
      b: { items: [4, 5] },
    };
    const fetchPage = jest.fn(async (token?: string) => pages[token ?? 'start']);

    // Act
    const items = await paginate(fetchPage, (p) => p.items, (p) => p.next);

    // Assess
    expect(items).toEqual([1, 2, 3, 4, 5]);
    expect(fetchPage.mock.calls.map((c) => c[0])).toEqual([undefined, 'a', 'b']);
  });

  test('stops with an error on a repeated token instead of looping forever', async () => {
    await expect(paginate(async () => ({ items: [1], next: 'same' }), (p) => p.items, (p) => p.next))
      .rejects.toThrow('same next token twice');
  });

  test('passes an error of a page through', async () => {
    const fetchPage = jest.fn().mockResolvedValueOnce({ items: [1], next: 'a' }).mockRejectedValueOnce(new Error('throttled'));
    await expect(paginate(fetchPage, (p: any) => p.items, (p: any) => p.next)).rejects.toThrow('throttled');
  });
});

describe('chunk', () => {
  test('splits at the size and keeps the remainder', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 10)).toEqual([]);
  });

  test('rejects a size below one', () => {
    expect(() => chunk([1], 0)).toThrow('chunk size must be a positive integer, got 0');
  });
});

describe('mapWithConcurrency', () => {
  test('never runs more than the limit at once and keeps input order', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  test('rejects with the error and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(mapWithConcurrency([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom');
      return n;
    })).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('settleWithConcurrency', () => {
  test('runs every item and reports each outcome', async () => {
    const outcomes = await settleWithConcurrency(['a', 'b', 'c'], 2, async (s) => {
      if (s === 'b') throw new Error('b failed');
      return s.toUpperCase();
    });
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseFulfilledResult<string>).value).toBe('C');
  });
});

describe('describeInBatches', () => {
  test('calls describe once per batch of the maximum and merges items and failures', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `id-${i}`);
    const describe = jest.fn(async (batch: string[]) => ({
      items: batch.filter((id) => id !== 'id-7'),
      failures: batch.includes('id-7') ? [{ arn: 'id-7', reason: 'MISSING' }] : [],
    }));

    const result = await describeInBatches(ids, 100, describe);

    expect(describe.mock.calls.map((c) => c[0].length)).toEqual([100, 100, 50]);
    expect(result.items).toHaveLength(249);
    expect(result.failures).toEqual([{ arn: 'id-7', reason: 'MISSING' }]);
  });
});

describe('describeError', () => {
  test('names the error and its HTTP status', () => {
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(describeError(error)).toBe('ThrottlingException (HTTP 400): Rate exceeded');
    expect(describeError('plain')).toBe('plain');
  });
});

/**
 * What every handler test needs around the handler: a fake clock (`Date` only) and a capture of what the handler
 * writes to stdout and stderr (Powertools logs and EMF metrics).
 */
/**
 * Fake `Date` only (timers, promises and I/O stay real) and set the clock. The fake fleet follows it
 * when built with `now: () => new Date()`; the DynamoDB store's TTLs follow it through `Date.now`.
 */
export function useFakeClock(start: Date): void {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
      'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval',
      'setTimeout', 'clearTimeout',
    ],
  });
  jest.setSystemTime(start);
}

/** Move the fake clock forward. */
export function advanceClock(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}

/**
 * What the handler wrote to stdout and stderr (Powertools logs, warnings and errors, and EMF),
 * one entry per line, kept out of the test output.
 */
export class StdoutCapture {
  public readonly lines: string[] = [];
  private spies: jest.SpyInstance[] = [];

  /** Start capturing; with `CDK_ECS_OPS_TEST_LOGS=1` lines are also passed through. */
  public start(): this {
    const passThrough = process.env.CDK_ECS_OPS_TEST_LOGS === '1';
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      this.spies.push(jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        this.lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
        return passThrough ? (write as any)(chunk, ...rest) : true;
      }) as any));
    }
    return this;
  }

  public stop(): void {
    for (const spy of this.spies) spy.mockRestore();
    this.spies = [];
  }

  public clear(): void {
    this.lines.length = 0;
  }

  /** The parsed JSON lines. */
  public json(): any[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
  }

  /** EMF documents (lines with `_aws.CloudWatchMetrics`). */
  public emf(): any[] {
    return this.json().filter((l) => l?._aws?.CloudWatchMetrics);
  }

  /** Metric values of the EMF documents of one cluster: `{ DisconnectedAgents: 1, ... }` per document. */
  public metricsOf(cluster: string): Array<Record<string, unknown>> {
    return this.emf()
      .filter((doc) => doc.ClusterName === cluster)
      .map((doc) => {
        const names: string[] = doc._aws.CloudWatchMetrics.flatMap((m: any) => m.Metrics.map((x: any) => x.Name));
        return Object.fromEntries(names.map((n) => [n, doc[n]]));
      });
  }
}

/**
 * The time budget of an invocation: how long its work may take, so that it always keeps time for its own bookkeeping
 * (state, metrics, the partial batch response, the CloudFormation answer) before Lambda stops it.
 *
 * `lambdaHandler` (handler.ts) makes one per invocation from `context.getRemainingTimeInMillis()`:
 *
 * ```
 * |<------------------------------- remaining time when the invocation starts -------------------------------->|
 * |<---------------- invocation.budget (the work) ---------------->|<------ reserveMs ------->|<-- margin -->|
 * |<----------------------------- invocation.budget.bookkeeping -------------------------------->|              |
 * ```
 *
 * - `invocation.budget` is the work's budget: its deadline is the remaining time less the handler's `reserveMs`.
 *   Every AWS call made while it is the current budget is bounded by it (aws.ts: each request's timeout is capped
 *   by the time left, a retry is made only when it can still finish, and a call is refused once the budget is spent,
 *   with {@link BudgetExhausted}).
 * - `invocation.budget.bookkeeping` ends {@link FINAL_MARGIN_MS} before Lambda's own deadline: run the writes the
 *   handler must make whatever happened under it, `await invocation.budget.bookkeeping.within(() => state.save(...))`.
 * - `budget.child({ maxMs })` slices a phase out of a budget (the parrot's claims, the runner's log lines), so one slow
 *   dependency cannot spend the time another needs.
 *
 * The current budget is kept in an `AsyncLocalStorage`, so code without the invocation object (the SDK clients'
 * middleware, a store, the notifier) finds it with {@link currentBudget}, and two invocations running at once in one
 * process (tests) keep theirs apart. Outside an invocation there is no budget and nothing is bounded but by the
 * clients' own timeouts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Shortest time worth starting an AWS call in: a call with less left is refused, and no retry is made that would leave less. */
export const MIN_CALL_MS = 250;

/** Time kept back from Lambda's deadline after the bookkeeping, for the runtime to flush logs and metrics and answer. */
export const FINAL_MARGIN_MS = 1_000;

/**
 * Work not done because the time budget was spent. Callers report it as "not done: out of time", not as a failure
 * of what they called: {@link isOutOfTime} also recognizes an SDK error whose retries the budget stopped.
 */
export class BudgetExhausted extends Error {
  constructor(public readonly doing?: string) {
    super(doing ? `not done: out of time (${doing})` : 'not done: out of time');
    this.name = 'BudgetExhausted';
  }
}

const OUT_OF_TIME = Symbol.for('cdk-ecs-ops.outOfTime');

/** Marks an error (e.g. the SDK's last `ThrottlingException`) as the last try of a call whose retries the budget stopped. */
export function markOutOfTime(error: unknown): void {
  if (error !== null && typeof error === 'object' && !Object.isFrozen(error)) {
    Object.defineProperty(error, OUT_OF_TIME, { value: true, enumerable: false, configurable: true });
  }
}

/**
 * Whether an error means "out of time": a {@link BudgetExhausted}, an error whose retries the budget stopped, or a
 * request aborted at the budget's deadline (an `AbortError` whose cause is a `BudgetExhausted`).
 */
export function isOutOfTime(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof BudgetExhausted || (current as { name?: unknown }).name === 'BudgetExhausted') return true;
    if ((current as Record<symbol, unknown>)[OUT_OF_TIME] === true) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** What the budget cut short during an invocation, for the handler's log and its `OutOfTime` metric. */
export interface BudgetTally {
  /** AWS calls not started because the budget was spent. */
  readonly callsRefused: number;
  /** AWS calls whose retries were stopped because the next try could not finish in time. */
  readonly retriesStopped: number;
}

interface MutableTally {
  callsRefused: number;
  retriesStopped: number;
}

/** Limits of a {@link Budget.child}. */
export interface BudgetLimits {
  /** The child ends at most this long from now. @default - no limit but the parent's */
  readonly maxMs?: number;
  /** The child ends this long before its parent, keeping that time for what follows. @default 0 */
  readonly reserveMs?: number;
}

const storage = new AsyncLocalStorage<Budget>();

/** The budget the calling code runs under, or undefined outside an invocation (and outside `within`). */
export function currentBudget(): Budget | undefined {
  return storage.getStore();
}

/** A deadline, what was cut short to keep it, and an AbortSignal that aborts when it passes. */
export class Budget {
  /** No deadline: nothing is bounded (outside Lambda, tests that call a handler without a context). */
  public static unlimited(now: () => number = Date.now): Budget {
    return new Budget(Number.POSITIVE_INFINITY, now, { callsRefused: 0, retriesStopped: 0 });
  }

  /** A budget that ends at `deadline` (epoch milliseconds, as `now` counts them). */
  public static until(deadline: number, now: () => number = Date.now): Budget {
    return new Budget(deadline, now, { callsRefused: 0, retriesStopped: 0 });
  }

  private controller?: AbortController;
  private timer?: ReturnType<typeof setTimeout>;
  private readonly children: Budget[] = [];

  protected constructor(
    /** When the budget ends, in epoch milliseconds (`Infinity` for none). */
    public readonly deadline: number,
    private readonly now: () => number,
    private readonly counts: MutableTally,
  ) {}

  /** Milliseconds left (0 once spent, `Infinity` without a deadline). */
  public remainingMs(): number {
    return Number.isFinite(this.deadline) ? Math.max(0, this.deadline - this.now()) : Number.POSITIVE_INFINITY;
  }

  /** Whether the budget is spent: no AWS call is worth starting any more ({@link MIN_CALL_MS}). */
  public expired(): boolean {
    return this.remainingMs() < MIN_CALL_MS;
  }

  /** Whether at least `ms` are left. */
  public hasTimeFor(ms: number): boolean {
    return this.remainingMs() >= ms;
  }

  /** Throws {@link BudgetExhausted} (naming `doing`) when the budget is spent. */
  public check(doing?: string): void {
    if (this.expired()) throw new BudgetExhausted(doing);
  }

  /** Aborts (with a {@link BudgetExhausted} reason) when the deadline passes; never without a deadline. */
  public get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (Number.isFinite(this.deadline)) {
        const abort = () => this.controller!.abort(new BudgetExhausted());
        const left = this.deadline - this.now();
        if (left <= 0) {
          abort();
        } else {
          this.timer = setTimeout(abort, left);
          // A deadline is no reason to keep a process alive.
          (this.timer as { unref?: () => void }).unref?.();
        }
      }
    }
    return this.controller.signal;
  }

  /** A budget for one phase: ends `reserveMs` before this one, and at most `maxMs` from now. Its cuts count in this one's tally. */
  public child(limits: BudgetLimits = {}): Budget {
    const byReserve = this.deadline - (limits.reserveMs ?? 0);
    const byLength = limits.maxMs === undefined ? Number.POSITIVE_INFINITY : this.now() + limits.maxMs;
    const child = new Budget(Math.min(byReserve, byLength), this.now, this.counts);
    this.children.push(child);
    return child;
  }

  /** Runs `fn` with this as the current budget: every AWS call it makes is bounded by it. */
  public within<T>(fn: () => T | Promise<T>): Promise<T> {
    return storage.run(this, async () => fn());
  }

  /**
   * `promise`, or a {@link BudgetExhausted} (naming `doing`) once less than `marginMs` is left, whichever comes first.
   * What `promise` was doing goes on; only the wait for it ends.
   */
  public race<T>(promise: Promise<T>, doing?: string, marginMs = 0): Promise<T> {
    if (!Number.isFinite(this.deadline)) return promise;
    const left = this.deadline - marginMs - this.now();
    if (left <= 0) {
      promise.catch(() => undefined);
      return Promise.reject(new BudgetExhausted(doing));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BudgetExhausted(doing)), left);
      (timer as { unref?: () => void }).unref?.();
      promise.then(
        (value) => { clearTimeout(timer); resolve(value); },
        (error) => { clearTimeout(timer); reject(error); },
      );
    });
  }

  /** Counts an AWS call not started because the budget was spent. */
  public noteRefused(): void {
    this.counts.callsRefused += 1;
  }

  /** Counts an AWS call whose retries were stopped by the deadline. */
  public noteRetryStopped(): void {
    this.counts.retriesStopped += 1;
  }

  /** What was cut short so far, in this budget, its children, and (for an invocation's) its bookkeeping. */
  public get tally(): BudgetTally {
    return { ...this.counts };
  }

  /** Stops the deadline's timer, and the children's. */
  public dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const child of this.children.splice(0)) child.dispose();
  }
}

/** What an invocation's budget is made from. */
export interface InvocationBudgetOptions {
  /** `context.getRemainingTimeInMillis()` when the invocation starts; `Infinity` outside Lambda. */
  readonly remainingMs: number;
  /** Time the handler keeps for its bookkeeping, after the work. */
  readonly reserveMs: number;
  /** Time kept back after the bookkeeping. @default FINAL_MARGIN_MS */
  readonly marginMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The budget of an invocation's work, with the budget of its bookkeeping (the work's, plus the reserve). */
export class InvocationBudget extends Budget {
  /** Makes the budgets of an invocation that has `remainingMs` left now. */
  public static start(options: InvocationBudgetOptions): InvocationBudget {
    const now = options.now ?? Date.now;
    const counts: MutableTally = { callsRefused: 0, retriesStopped: 0 };
    if (!Number.isFinite(options.remainingMs)) {
      return new InvocationBudget(Number.POSITIVE_INFINITY, now, counts, new BookkeepingBudget(Number.POSITIVE_INFINITY, now, counts));
    }
    const end = now() + options.remainingMs - (options.marginMs ?? FINAL_MARGIN_MS);
    return new InvocationBudget(end - options.reserveMs, now, counts, new BookkeepingBudget(end, now, counts));
  }

  private constructor(deadline: number, now: () => number, counts: MutableTally, public readonly bookkeeping: Budget) {
    super(deadline, now, counts);
  }

  public dispose(): void {
    super.dispose();
    this.bookkeeping.dispose();
  }
}

/** The bookkeeping's budget: a plain budget that shares the invocation's tally. */
class BookkeepingBudget extends Budget {
  public constructor(deadline: number, now: () => number, counts: MutableTally) {
    super(deadline, now, counts);
  }
}

/**
 * Typed configuration from environment variables, read once per container.
 *
 * A handler declares what it needs with the readers below and calls `readConfig` at module scope or
 * on first use. Every problem is collected, then thrown as one `ConfigError` that names each variable,
 * the value it had and what is allowed, so a misconfigured function says exactly what to fix.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid function configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads one variable; returns the value or records a problem and returns undefined. */
export type Reader<T> = (env: Env, name: string, problems: string[]) => T | undefined;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function show(value: string): string {
  return value.length > 80 ? `${JSON.stringify(value.slice(0, 80))}…` : JSON.stringify(value);
}

interface Common<T> {
  /** Used when the variable is unset or empty; without it, the variable is required. */
  readonly default?: T;
}

export const env = {
  string(options: Common<string> & { pattern?: RegExp; patternHint?: string } = {}): Reader<string> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      if (options.pattern && !options.pattern.test(value)) {
        problems.push(`${name} is ${show(value)}; expected ${options.patternHint ?? `a value matching ${options.pattern}`}`);
        return undefined;
      }
      return value;
    };
  },

  optionalString(): Reader<string | undefined> {
    return (e, name) => raw(e, name);
  },

  int(options: Common<number> & { min?: number; max?: number } = {}): Reader<number> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      const parsed = /^-?\d+$/.test(value) ? Number(value) : NaN;
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        problems.push(`${name} is ${show(value)}; expected a whole number from ${min} to ${max}`);
        return undefined;
      }
      return parsed;
    };
  },

  bool(options: Common<boolean> = {}): Reader<boolean> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      if (value === 'true') return true;
      if (value === 'false') return false;
      problems.push(`${name} is ${show(value)}; expected "true" or "false"`);
      return undefined;
    };
  },

  oneOf<T extends string>(allowed: readonly T[], options: Common<T> = {}): Reader<T> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      if (!(allowed as readonly string[]).includes(value)) {
        problems.push(`${name} is ${show(value)}; expected one of ${allowed.join(', ')}`);
        return undefined;
      }
      return value as T;
    };
  },

  /** A comma-separated list; empty items are dropped. */
  list(options: Common<string[]> & { minItems?: number } = {}): Reader<string[]> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      const items = value.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length < (options.minItems ?? 0)) {
        problems.push(`${name} is ${show(value)}; expected at least ${options.minItems} comma-separated item(s)`);
        return undefined;
      }
      return items;
    };
  },

  /** JSON, checked by `validate`, which returns a problem description or undefined. */
  json<T>(validate: (value: unknown) => string | undefined, options: Common<T> = {}): Reader<T> {
    return (e, name, problems) => {
      const value = raw(e, name);
      if (value === undefined) return missing(name, options.default, problems);
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        problems.push(`${name} is not valid JSON: ${show(value)}`);
        return undefined;
      }
      const problem = validate(parsed);
      if (problem) {
        problems.push(`${name}: ${problem}`);
        return undefined;
      }
      return parsed as T;
    };
  },
};

function missing<T>(name: string, fallback: T | undefined, problems: string[]): T | undefined {
  if (fallback === undefined) problems.push(`${name} is not set`);
  return fallback;
}

export type Spec = Record<string, Reader<unknown>>;
export type ConfigOf<S extends Spec> = { readonly [K in keyof S]: S[K] extends Reader<infer T> ? T : never };

/**
 * Reads every variable in `spec` (keys are the variable names) and returns them typed,
 * or throws one `ConfigError` listing every problem.
 */
export function readConfig<S extends Spec>(spec: S, source: Env = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [name, reader] of Object.entries(spec)) {
    result[name] = reader(source, name, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/** Wraps `read` so it runs once and every later call returns the same value (or the same error). */
export function once<T>(read: () => T): () => T {
  let done = false;
  let value: T;
  let error: unknown;
  return () => {
    if (!done) {
      try {
        value = read();
      } catch (e) {
        error = e;
      }
      done = true;
    }
    if (error !== undefined) throw error;
    return value;
  };
}

/**
 * Runs every part's reader and returns their results by name, or throws one `ConfigError` with the problems
 * of every part (a `ConfigError`'s problems one by one; any other error's message as one problem).
 */
export function readConfigParts<P extends Record<string, () => unknown>>(parts: P): { readonly [K in keyof P]: ReturnType<P[K]> } {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(parts)) {
    try {
      result[name] = read();
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
      else problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as { readonly [K in keyof P]: ReturnType<P[K]> };
}

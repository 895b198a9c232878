import { Duration, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/*
 * How every construct checks its props (internal: not exported from the package). Each check returns its problems
 * as "prop is <value>; <what to give>"; the construct collects them all, then `throwIfInvalid` throws them at once.
 */

/** Throws one error that lists every problem found in a construct's props; does nothing when there is none. */
export function throwIfInvalid(constructName: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`Invalid ${constructName} props:\n- ${problems.join('\n- ')}`);
  }
}

/**
 * Numbers the construct computes with or checks at synth, which an unresolved token (`CfnParameter.valueAsNumber`,
 * `Lazy.number`) would turn into nonsense: one problem per prop given one.
 */
export function literalNumberProblems(scope: IConstruct, numbers: Record<string, number | undefined>): string[] {
  return Object.entries(numbers)
    .filter(([, value]) => value !== undefined && Token.isUnresolved(value))
    .map(([prop, value]) => `${prop} is a token (${describeToken(scope, value)}), not a number known when the construct is created; `
      + 'give a literal number (the construct checks it and computes with it at synth)');
}

/**
 * Durations the construct converts or computes with at synth, which a duration built from a token
 * (`Duration.minutes(param.valueAsNumber)`) cannot be: one problem per prop given one.
 */
export function literalDurationProblems(scope: IConstruct, durations: Record<string, Duration | undefined>): string[] {
  return Object.entries(durations)
    .filter(([, value]) => value !== undefined && value.isUnresolved())
    .map(([prop, value]) => `${prop} is a duration built from a token (${describeToken(scope, value!.formatTokenToNumber())}); `
      + 'give a literal Duration such as Duration.minutes(5) (the construct checks it and computes with it at synth)');
}

/**
 * What a token stands for, as CloudFormation will see it, for a message: `{"Ref":"FailAfter"}` for a number, and each
 * token of a string in its place (`rate({"Ref":"Rate"} minutes)`, `{"Ref":"Window"} seconds`).
 */
export function describeToken(scope: IConstruct, value: unknown): string {
  const show = (token: unknown) => {
    try {
      return JSON.stringify(Stack.of(scope).resolve(token));
    } catch {
      return 'an unresolved token';
    }
  };
  return typeof value === 'string' ? value.replace(/\$\{Token\[[^\]]*\]\}/g, show) : show(value);
}

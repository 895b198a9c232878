import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { IConstruct } from 'constructs';
import { describeToken } from './validation';

/*
 * The schedule of the scheduled constructs (EcsAgentMonitor, EcsAgentUpdater), read and checked the same way in both
 * (internal: not exported from the package).
 */

/** The period of a rate schedule (`rate(5 minutes)`); undefined for a cron schedule or one built from tokens. */
export function ratePeriodOf(schedule: events.Schedule): Duration | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.expressionString);
  if (!match) return undefined;
  const unit = match[2].startsWith('minute') ? Duration.minutes : match[2].startsWith('hour') ? Duration.hours : Duration.days;
  return unit(Number(match[1]));
}

/**
 * A schedule whose period the construct cannot know at synth: a rate built from a token
 * (`Schedule.rate(Duration.minutes(param.valueAsNumber))`) or an expression that is a token as a whole. A cron
 * schedule with tokens in its fields is fine: the construct never reads a period from a cron.
 */
export function unresolvedScheduleProblem(scope: IConstruct, schedule: events.Schedule | undefined, prop = 'schedule'): string | undefined {
  if (!schedule) return undefined;
  const expression = schedule.expressionString;
  if (!Token.isUnresolved(expression) || expression.startsWith('cron(')) return undefined;
  return `${prop} is a schedule built from a token (${describeToken(scope, expression)}); give Schedule.rate() with a literal `
    + 'Duration, or Schedule.cron() (the construct takes the period of a rate for its counts, metrics and alarms)';
}

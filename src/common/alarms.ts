import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** How one alarm evaluates its metric: `evaluationPeriods` periods of `period`. */
export interface AlarmWindow {
  /** The alarm, for messages (its metric's name). */
  readonly alarm: string;
  readonly period: Duration;
  readonly evaluationPeriods: number;
}

/** The errors alarm of a scheduled function looks at its last three runs. */
const RUN_ERRORS_EVALUATION_PERIODS = 3;

/** The window of `runErrorsAlarm` for a metric of one period per run. */
export function runErrorsAlarmWindow(period: Duration): AlarmWindow {
  return { alarm: 'Errors', period, evaluationPeriods: RUN_ERRORS_EVALUATION_PERIODS };
}

/**
 * The alarm on a scheduled function's errors: errors in two of its last three runs (one failed run is retried by
 * the next), with no data (no runs) not breaching. `metric` must have the schedule's period.
 */
export function runErrorsAlarm(scope: Construct, description: string, metric: cloudwatch.IMetric): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'ErrorsAlarm', {
    alarmDescription: description,
    metric,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: RUN_ERRORS_EVALUATION_PERIODS,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * The longest an alarm may evaluate, period × evaluation periods, as PutMetricAlarm documents it: 7 days
 * (604,800 s), and 1 day (86,400 s) for a period under an hour.
 */
export function alarmEvaluationLimit(period: Duration): Duration {
  return period.toSeconds() < 3600 ? Duration.days(1) : Duration.days(7);
}

/** Whether CloudWatch accepts the window (see `alarmEvaluationLimit`). */
export function alarmWindowFits(window: AlarmWindow): boolean {
  return window.period.toSeconds() * window.evaluationPeriods <= alarmEvaluationLimit(window.period).toSeconds();
}

/**
 * The alarms `createAlarms` would create that CloudWatch refuses at deploy, each as a problem of `createAlarms`
 * ending with `fix`. Every scheduled construct checks its alarms with this one rule and message.
 */
export function alarmWindowProblems(windows: readonly AlarmWindow[], fix: string): string[] {
  const seconds = (d: Duration) => `${String(d.toSeconds()).replace(/\B(?=(\d{3})+$)/g, ',')} s`;
  return windows.filter((w) => !alarmWindowFits(w)).map((w) => {
    const total = Duration.seconds(w.period.toSeconds() * w.evaluationPeriods);
    const limit = alarmEvaluationLimit(w.period);
    const which = w.period.toSeconds() < 3600 ? 'for a period under an hour' : 'for a period of an hour or more';
    return `createAlarms: the ${w.alarm} alarm would evaluate ${w.evaluationPeriods} period${w.evaluationPeriods === 1 ? '' : 's'} `
      + `of ${w.period.toHumanString()} (${seconds(total)}), more than the ${seconds(limit)} (${limit.toHumanString()}) CloudWatch allows ${which} `
      + `(period × evaluation periods); ${fix}`;
  });
}

/**
 * The longest period with which `evaluationPeriods` periods fit CloudWatch's limit (whole minutes), for a fix.
 * With a period of an hour or more the limit is 7 days; under an hour, 1 day.
 */
export function longestFittingPeriod(evaluationPeriods: number): Duration {
  const minutes = (seconds: number) => Math.floor(seconds / evaluationPeriods / 60) * 60;
  const weekly = minutes(Duration.days(7).toSeconds());
  return Duration.seconds(weekly >= 3600 ? weekly : Math.min(3540, minutes(Duration.days(1).toSeconds())));
}

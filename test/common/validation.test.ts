/**
 * The shared checks of props: CloudWatch's limit on an alarm's evaluation range, where a resource is by its ARN or its
 * stack, and tokens where a number is computed with.
 */
import { App, Aws, CfnParameter, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { alarmEvaluationLimit, alarmWindowFits, alarmWindowProblems, longestFittingPeriod } from '../../src/common/alarms';
import { environmentProblems, subjectsOf } from '../../src/common/environment';
import { ratePeriodOf, unresolvedScheduleProblem } from '../../src/common/schedule';
import { literalDurationProblems, literalNumberProblems, throwIfInvalid } from '../../src/common/validation';
import { HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, environments, warningsOf } from '../support/environments';

describe('alarm evaluation range (PutMetricAlarm: period × evaluation periods)', () => {
  const window = (seconds: number, evaluationPeriods: number) => ({ alarm: 'Test', period: Duration.seconds(seconds), evaluationPeriods });

  test('is at most one day for a period under an hour, seven days from an hour', () => {
    expect(alarmEvaluationLimit(Duration.minutes(59)).toSeconds()).toBe(86_400);
    expect(alarmEvaluationLimit(Duration.hours(1)).toSeconds()).toBe(604_800);
    expect(alarmWindowFits(window(3540, 24))).toBe(true); // 84,960 s
    expect(alarmWindowFits(window(300, 288))).toBe(true); // exactly 86,400 s
    expect(alarmWindowFits(window(300, 289))).toBe(false);
    expect(alarmWindowFits(window(3600, 168))).toBe(true); // exactly 604,800 s
    expect(alarmWindowFits(window(3600, 169))).toBe(false);
    expect(alarmWindowFits(window(604_800, 1))).toBe(true);
    expect(alarmWindowFits(window(604_860, 1))).toBe(false); // a period over 604,800 s never fits
  });

  test('fails with one message naming the alarm, its window and the limit, ending with the fix', () => {
    expect(alarmWindowProblems([window(300, 288), window(604_860, 1)], 'do this')).toEqual([
      'createAlarms: the Test alarm would evaluate 1 period of 7 days 1 minute (604,860 s), more than the 604,800 s (7 days) CloudWatch allows '
        + 'for a period of an hour or more (period × evaluation periods); do this',
    ]);
  });

  test('the longest period that fits: whole minutes, on the side of the hour that allows more', () => {
    expect(longestFittingPeriod(3).toSeconds()).toBe(201_600); // 2 days 8 hours: 3 × 201,600 = 604,800
    expect(longestFittingPeriod(200).toSeconds()).toBe(420); // 200 periods of an hour exceed 7 days; 200 of 7 minutes fit a day
    expect(longestFittingPeriod(103).toSeconds()).toBe(5820);
  });
});

describe('schedules', () => {
  test('the period of a rate, none for a cron', () => {
    expect(ratePeriodOf(events.Schedule.rate(Duration.minutes(1)))?.toSeconds()).toBe(60);
    expect(ratePeriodOf(events.Schedule.rate(Duration.hours(2)))?.toSeconds()).toBe(7200);
    expect(ratePeriodOf(events.Schedule.rate(Duration.days(3)))?.toSeconds()).toBe(259_200);
    expect(ratePeriodOf(events.Schedule.cron({ minute: '0' }))).toBeUndefined();
  });

  test('fails on a rate or an expression from a token, not on a cron with token fields', () => {
    const stack = new Stack();
    const n = new CfnParameter(stack, 'N', { type: 'Number' }).valueAsNumber;
    const s = new CfnParameter(stack, 'S').valueAsString;
    expect(unresolvedScheduleProblem(stack, events.Schedule.rate(Duration.minutes(n))))
      .toBe('schedule is a schedule built from a token (rate({"Ref":"N"} minutes)); give Schedule.rate() with a literal Duration, or Schedule.cron() '
        + '(the construct takes the period of a rate for its counts, metrics and alarms)');
    expect(unresolvedScheduleProblem(stack, events.Schedule.expression(s))).toMatch(/^schedule is a schedule built from a token \(\{"Ref":"S"\}\)/);
    expect(unresolvedScheduleProblem(stack, events.Schedule.cron({ hour: s }))).toBeUndefined();
    expect(unresolvedScheduleProblem(stack, events.Schedule.rate(Duration.minutes(5)))).toBeUndefined();
  });
});

describe('numbers and durations from tokens', () => {
  test('one problem per prop given a token, naming it and what it stands for', () => {
    const stack = new Stack();
    const n = new CfnParameter(stack, 'N', { type: 'Number' }).valueAsNumber;
    expect(literalNumberProblems(stack, { a: 1, b: undefined, c: n, d: Lazy.number({ produce: () => 7 }) })).toEqual([
      'c is a token ({"Ref":"N"}), not a number known when the construct is created; give a literal number (the construct checks it and computes with it at synth)',
      'd is a token (7), not a number known when the construct is created; give a literal number (the construct checks it and computes with it at synth)',
    ]);
    expect(literalDurationProblems(stack, { e: Duration.minutes(5), f: Duration.hours(n), g: undefined })).toEqual([
      'f is a duration built from a token ({"Ref":"N"} hours); give a literal Duration such as Duration.minutes(5) (the construct checks it and computes with it at synth)',
    ]);
  });

  test('every problem in one error; none, no error', () => {
    expect(() => throwIfInvalid('Thing', ['a is 1; give 2', 'b is 3; give 4'])).toThrow(/^Invalid Thing props:\n- a is 1; give 2\n- b is 3; give 4$/);
    expect(() => throwIfInvalid('Thing', [])).not.toThrow();
  });
});

describe('resources of another account or region', () => {
  let imported = 0;
  const check = (scope: Construct, arns: string[]) => environmentProblems(scope, 'Thing',
    subjectsOf('things', 'thing', arns.map((arn) => ecs.Cluster.fromClusterArn(scope, `T${imported++}`, arn)), (c) => c.clusterArn));

  test('compares the concrete parts of an ARN, also with a partition token', () => {
    const { stack } = environments();
    expect(check(stack, [`arn:${Aws.PARTITION}:ecs:${OTHER_REGION}:${HOME.account}:cluster/prod`])).toEqual([
      expect.stringMatching(/^things\[0\] \(thing Stack\/T\d+\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: /),
    ]);
    expect(check(stack, [arnIn({ account: OTHER_ACCOUNT, region: OTHER_REGION }, 'ecs', 'cluster/prod')])).toEqual([
      expect.stringMatching(/is in account 210987654321 and region eu-west-1, but the stack Stack deploys to account 123456789012 and region us-east-1: .*Give a thing of account 123456789012 and region us-east-1, or put the Thing in a stack of account 210987654321 and region eu-west-1$/),
    ]);
    expect(check(stack, [arnIn(HOME, 'ecs', 'cluster/prod')])).toEqual([]);
  });

  test('an IAM resource is in an account and no region', () => {
    const { stack } = environments();
    const role = (arn: string, id: string) => environmentProblems(stack, 'Thing',
      subjectsOf('roles', 'IAM role', [iam.Role.fromRoleArn(stack, id, arn)], (r) => r.roleArn, { global: true }));
    expect(role(`arn:aws:iam::${HOME.account}:role/ok`, 'Ok')).toEqual([]);
    expect(role(`arn:aws:iam::${OTHER_ACCOUNT}:role/theirs`, 'Theirs')).toEqual([expect.stringMatching(/^roles\[0\] .* is in account 210987654321, but/)]);
  });

  test('a partly environment-agnostic stack compares what it knows, and warns about the rest', () => {
    const stack = new Stack(new App(), 'RegionOnly', { env: { region: HOME.region } });
    expect(check(stack, [arnIn({ account: OTHER_ACCOUNT, region: OTHER_REGION }, 'ecs', 'cluster/prod')]))
      .toEqual([expect.stringMatching(/is in region eu-west-1, but the stack RegionOnly deploys to region us-east-1/)]);
    expect(warningsOf(stack, 'cdk-ecs-ops/Thing:environmentAgnostic')).toEqual([expect.stringMatching(/: things\[0\] is in account 210987654321\./)]);
  });
});

/**
 * Secrets, and free text a user typed, planted where the constructs meet them: container override values, a command
 * with a database URL, a reason given to StopTask, webhook URLs, tokens and keys in AWS error messages. The tests of
 * what the constructs show a person (test/common/what-is-shown.test.ts, test/bundles/what-is-shown.test.ts) run
 * every handler over them and scan every chat body, CloudFormation reason, HTTP body and log line with
 * {@link shownSecrets}.
 */
import { apiCallEvent, hexId, taskEvent } from '../ecs-parrot/support/events';

/** Each value must never be shown; the names say where it was planted. */
export const SECRET = {
  /** The password of a database URL in a command (ExecuteCommand, a runner's command override). */
  commandDbPassword: 'S3cr3t-cmd-7f3a91',
  /** Free text of a command a user typed. */
  commandText: 'freetext-command-42c7',
  /** A password in the reason given to StopTask. */
  stopReasonPassword: 'hunter2-stop-9b1c',
  /** Free text of the reason given to StopTask. */
  stopReasonText: 'freetext-reason-d41e',
  /** An environment value of a container override (RunTask's overrides, a runner's environment). */
  overrideEnvironment: 'ovr-env-value-5e8d2a',
  /** A database URL's password in an environment value of a container override. */
  overrideDbPassword: 'ovr-db-pw-13c9f0',
  /** A webhook URL's secret path (Slack, Teams, generic webhook). */
  webhookToken: 'whk-token-77aa02',
  /** An AWS access key id in an AWS error message. */
  accessKeyId: 'AKIAZXCVBNMASDFGHJKL',
  /** A bearer token in an AWS error message. */
  bearerToken: 'bearer-tok-c0ffee1234',
  /** A password in a KEY=value of an AWS error message. */
  errorPassword: 'err-pw-9931ab',
} as const;

/** Every planted value. */
export const SECRETS: readonly string[] = Object.values(SECRET);

/** A command as a user writes it: a database URL with its password, and free text. */
export const SECRET_COMMAND = ['sh', '-c', `psql postgres://admin:${SECRET.commandDbPassword}@db.internal:5432/app -c "select '${SECRET.commandText}'"`];

/** The reason given to StopTask, which ECS then reports as the task's stopped reason. */
export const SECRET_STOP_REASON = `rotating after ${SECRET.stopReasonText}, DB_PASSWORD=${SECRET.stopReasonPassword}`;

/** Container override environment values. */
export const SECRET_ENVIRONMENT: Record<string, string> = {
  FEATURE_KEYWORD: SECRET.overrideEnvironment,
  DATABASE_URL: `postgres://migrator:${SECRET.overrideDbPassword}@db.internal:5432/app`,
};

/** An AWS error message that quotes secret-looking text (as an InvalidParameterException may quote a parameter). */
export const SECRET_ERROR_MESSAGE = `Invalid request: DB_PASSWORD=${SECRET.errorPassword} key ${SECRET.accessKeyId} `
  + `Authorization: Bearer ${SECRET.bearerToken}`;

/** A webhook URL path whose last part is its secret. */
export function webhookPath(channel: string): string {
  return `/services/T0AAA/B0BBB/${channel}-${SECRET.webhookToken}`;
}

/**
 * EcsParrot's events that carry the secrets, at `now`: API calls with a command (ExecuteCommand), a reason (StopTask),
 * overrides (RunTask) and an error message that quotes secrets (a failed RunTask), the task StopTask stopped (ECS
 * reports the reason given to StopTask as its stopped reason), and the task RunTask started with the overrides,
 * whose container reason quotes the command. With `apiCalls` ExecuteCommand, StopTask and RunTask and
 * `minimumSeverity` INFO, every one is reported.
 */
export function parrotCarriers(now: Date): unknown[] {
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const taskId = hexId('secret-task');
  const call = (eventName: string, requestParameters: Record<string, unknown>, extra: { errorCode?: string; errorMessage?: string } = {}) =>
    apiCallEvent({ eventName, requestParameters, at: at(0), user: 'alice', seed: `${eventName}${extra.errorCode ?? ''}`, ...extra });
  const overrides = {
    containerOverrides: [{
      name: 'migrate',
      command: SECRET_COMMAND,
      environment: Object.entries(SECRET_ENVIRONMENT).map(([name, value]) => ({ name, value })),
    }],
  };
  const stopped = taskEvent({
    taskId,
    group: 'service:api',
    taskDefinition: 'api:42',
    lastStatus: 'STOPPED',
    containers: [{ name: 'web', exitCode: 2 }],
    stopCode: 'UserInitiated',
    stoppedReason: SECRET_STOP_REASON,
    createdAt: at(-600),
    startedAt: at(-580),
    at: at(5),
    version: 7,
  });
  const failed = taskEvent({
    taskId: hexId('secret-run'),
    group: 'family:migrate',
    taskDefinition: 'migrate:3',
    lastStatus: 'STOPPED',
    containers: [{ name: 'migrate', reason: `CannotStartContainerError: exec: "${SECRET_COMMAND.join(' ')}": permission denied` }],
    stopCode: 'TaskFailedToStart',
    stoppedReason: 'Task failed to start',
    createdAt: at(-60),
    at: at(6),
    version: 3,
  });
  failed.detail.overrides = overrides;
  return [
    call('ExecuteCommand', { cluster: 'prod', task: taskId, container: 'web', command: SECRET_COMMAND.join(' '), interactive: true }),
    call('StopTask', { cluster: 'prod', task: taskId, reason: SECRET_STOP_REASON }),
    call('RunTask', { cluster: 'prod', taskDefinition: 'migrate:3', count: 1, overrides }),
    call('RunTask', { cluster: 'prod', taskDefinition: 'migrate:3', count: 1, overrides }, { errorCode: 'InvalidParameterException', errorMessage: SECRET_ERROR_MESSAGE }),
    stopped,
    failed,
  ];
}

/** Where a planted value was found: the value, and the text around it. */
export interface ShownSecret {
  readonly secret: string;
  readonly where: string;
  readonly context: string;
}

/**
 * The planted values found in what was shown, each with where and the text around it (so a failure says what leaked
 * and through which path). `shown` maps a name (`slack body`, `reason`, `log line 12`) to the text shown.
 */
export function shownSecrets(shown: Iterable<readonly [string, unknown]>, secrets: readonly string[] = SECRETS): ShownSecret[] {
  const found: ShownSecret[] = [];
  for (const [where, value] of shown) {
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
    for (const secret of secrets) {
      for (const form of [secret, encodeURIComponent(secret)]) {
        const at = text.indexOf(form);
        if (at >= 0) found.push({ secret, where, context: text.slice(Math.max(0, at - 60), at + form.length + 20) });
      }
    }
  }
  return found;
}

/** Named entries for {@link shownSecrets}: `name 1`, `name 2`, ... */
export function numbered(name: string, texts: readonly unknown[]): Array<[string, unknown]> {
  return texts.map((t, i) => [`${name} ${i + 1}`, t]);
}

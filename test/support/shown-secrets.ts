/**
 * Secrets, and free text a user typed, planted where the constructs meet them: container override values, a command
 * with a database URL, a reason given to StopTask, webhook URLs, tokens and keys in AWS error messages. The tests of
 * what the constructs show a person (test/common/what-is-shown.test.ts, test/bundles/what-is-shown.test.ts) run
 * every handler over them and scan every chat body, CloudFormation reason, HTTP body and log line with
 * {@link shownSecrets}.
 */

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

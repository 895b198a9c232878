import { describeError } from '../../lambda/common/aws';
import { logger } from '../../lambda/common/powertools';
import {
  MASK, MIN_SECRET_LENGTH, Redactor, ShownError, activeRedactor, forgetRememberedSecrets, isSecretKey, redact, redactValue, rememberSecrets,
  secretParts, shownError, shownIdentifier, withRedactor,
} from '../../lambda/common/redact';
import { StdoutCapture } from '../support/handler-harness';

describe('secret-looking text', () => {
  test.each([
    ['the password of a URL', 'psql postgres://admin:S3cr3t@db.internal:5432/app', 'psql postgres://admin:***@db.internal:5432/app'],
    ['a password with @ and / in it', 'mysql://root:p@ss/w0rd@db/app', 'mysql://root:***@db/app'],
    ['a user-only userinfo (a token as the user)', 'git clone https://ghx_0123456789abcdef@github.com/org/repo', 'git clone https://***@github.com/org/repo'],
    ['KEY=value', 'StopTask reason=rotating DB_PASSWORD=hunter2 now', 'StopTask reason=rotating DB_PASSWORD=*** now'],
    ['KEY: value', 'api_key: abc123def, next', 'api_key: ***, next'],
    ['a JSON member', '{"clientSecret":"s3cr3t value","user":"bob"}', '{"clientSecret":"***","user":"bob"}'],
    ['a quoted value', "export TOKEN='a b c' && run", "export TOKEN='***' && run"],
    ['camelCase and dotted keys', 'dbPassword=x1 aws.secretKey=x2 sortKey=x3', 'dbPassword=*** aws.secretKey=*** sortKey=***'],
    ['a presigned URL', 'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIDX%2F2026&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=FwoGZX',
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***'],
    ['an Authorization header', 'Authorization: Bearer eyJhbGciOi.payload', 'Authorization: Bearer ***'],
    ['a bearer token in text', 'curl -H "Bearer 0123456789abcdef" api', 'curl -H "Bearer ***" api'],
    ['a JSON web token', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-x done', 'jwt *** done'],
    ['an AWS access key id', 'key AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE', 'key *** and ***'],
    ['Slack tokens', 'xoxb-1234567890-abcdefghij', '***'],
    ['GitHub tokens', 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', '***'],
    ['a Slack webhook URL', 'POST https://hooks.slack.com/services/T000/B000/XXXXSECRET failed', 'POST https://hooks.slack.com/services/*** failed'],
    ['a Teams webhook URL', 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456', 'https://contoso.webhook.office.com/***'],
    ['a Power Automate URL', 'https://prod-01.westeurope.logic.azure.com:443/workflows/1/triggers/manual/paths/invoke?sig=abc', 'https://prod-01.westeurope.logic.azure.com:443/***'],
    ['a private key', 'key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end', 'key: *** end'],
    ['a private key cut short', 'x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN', 'x ***'],
  ])('masks %s', (_name, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  test.each([
    'Essential container in task exited',
    'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref docker.io/library/app:42: not found',
    'User: arn:aws:sts::123456789012:assumed-role/Deployer/alice is not authorized to perform: ecs:StopTask on resource: arn:aws:ecs:us-east-1:123456789012:task/prod/abc',
    'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
    'service api was unable to place a task because no container instance met all of its requirements.',
    'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0f1e2d/logs?region=us-east-1',
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
    'task=0f1e2d3c container=app desiredCount=3 status=DRAINING',
    'the monkey=business of a keyboard',
    `already ${MASK}`,
  ])('leaves text without secrets as it is: %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  test('masks what it masked the same way again (idempotent)', () => {
    const once = redact('psql postgres://a:b@c DB_PASSWORD=hunter2 Authorization: Bearer 0123456789abcdef');
    expect(redact(once)).toBe(once);
  });

  test.each([
    ['DB_PASSWORD', true], ['password', true], ['apiKey', true], ['X-Amz-Signature', true], ['clientSecret', true], ['GITHUB_TOKEN', true],
    ['mysecretvalue', true], ['AWS_SECRET_ACCESS_KEY', true], ['sig', true], ['Authorization', true],
    ['ExpiredTokenException', false], ['CredentialsProviderError', false], ['monkey', false], ['desiredCount', false], ['cluster', false], ['reason', false], ['signal', false], ['keyboard', false],
  ])('a key named %s is a secret key: %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });
});

describe('known values', () => {
  test('masks every value wherever it occurs, longest first', () => {
    // Prepare
    const redactor = new Redactor({ values: ['postgres://admin:S3cr3t@db/app', 'S3cr3t', 'hunter2-long'] });

    // Act
    const text = redactor.text('url=postgres://admin:S3cr3t@db/app pw S3cr3t, again:hunter2-long.');

    // Assess
    expect(text).toBe('url=*** pw ***, again:***.');
  });

  test('masks the password of a URL and the value of a secret KEY=value inside a known value, wherever they occur alone', () => {
    const redactor = new Redactor({ values: ['postgres://admin:Pa55word@db/app?sslmode=require', 'DB_PASSWORD=hunter22 MODE=fast'] });
    expect(redactor.text('login failed for admin with Pa55word; hunter22; sslmode require; fast')).toBe(
      'login failed for admin with ***; ***; sslmode require; fast');
  });

  test('masks the URL-encoded and JSON-escaped forms of a value', () => {
    const redactor = new Redactor({ values: ['p@ss w"rd!'] });
    expect(redactor.text('a p%40ss%20w%22rd! b "p@ss w\\"rd!" c p@ss w"rd!')).toBe('a *** b "***" c ***');
  });

  test(`leaves values shorter than ${MIN_SECRET_LENGTH} characters alone`, () => {
    const redactor = new Redactor({ values: ['60', 'abc', undefined, null], words: ['run'] });
    expect(redactor.size).toBe(0);
    expect(redactor.text('run 60 abc')).toBe('run 60 abc');
  });

  test('masks words only where they stand as a whole word', () => {
    const redactor = new Redactor({ words: ['migrate', 'hunter2'] });
    expect(redactor.text('Running migration 0042; npm run migrate; pw=hunter2; hunter22')).toBe('Running migration 0042; npm run ***; pw=***; hunter22');
  });

  test('masks the secret part of a word anywhere', () => {
    const redactor = new Redactor({ words: ['--password=hunter2'] });
    expect(redactor.text('args: --password=hunter2; login as x/hunter2')).toBe('args: ***; login as x/***');
  });

  test('with() knows the old secrets and the new ones', () => {
    const redactor = new Redactor({ values: ['first-secret'] }).with({ values: ['second-secret'] });
    expect(redactor.text('first-secret second-secret')).toBe('*** ***');
  });

  test('value() masks every string of a structure and keeps its keys and other values', () => {
    // Prepare
    const redactor = new Redactor({ values: ['hunter2'] });
    const value = { title: 'hunter2', n: 3, ok: true, nested: [{ text: 'token=abc123' }, null], at: new Date(0), map: new Map([['k', 'hunter2']]) };

    // Act
    const masked = redactor.value(value);

    // Assess
    expect(masked).toEqual({ title: MASK, n: 3, ok: true, nested: [{ text: 'token=***' }, null], at: new Date(0), map: new Map([['k', MASK]]) });
    expect(value.title).toBe('hunter2');
  });

  test('value() copes with cycles', () => {
    const value: any = { a: 'hunter2' };
    value.self = value;
    const masked = new Redactor({ values: ['hunter2'] }).value(value);
    expect(masked.a).toBe(MASK);
    expect(masked.self).toBe(masked);
  });

  test('secretParts derives the password of a URL and a secret KEY=value, not other values', () => {
    expect(secretParts('postgres://admin:S3cr3t@db/app?sslmode=require').sort()).toEqual(['S3cr3t', 'postgres%3A%2F%2Fadmin%3AS3cr3t%40db%2Fapp%3Fsslmode%3Drequire', 'postgres://admin:S3cr3t@db/app?sslmode=require'].sort());
    expect(secretParts('--api-key=abcd1234')).toEqual(['--api-key=abcd1234', 'abcd1234', '--api-key%3Dabcd1234']);
  });
});

describe('the active redactor', () => {
  test('is the patterns-only one outside a scope', () => {
    expect(activeRedactor()).toBe(Redactor.PATTERNS);
  });

  test('withRedactor makes it active in the function and in what it awaits, and only there', async () => {
    // Prepare
    const redactor = new Redactor({ values: ['hunter2'] });

    // Act
    const inside = await withRedactor(redactor, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [redact('pw hunter2'), redactValue({ pw: 'hunter2' })];
    });

    // Assess
    expect(inside).toEqual(['pw ***', { pw: MASK }]);
    expect(redact('pw hunter2')).toBe('pw hunter2');
  });

  test('remembered secrets are masked in every scope and outside one, until forgotten', () => {
    // Prepare
    rememberSecrets({ values: ['https://hooks.example.com/remembered-path'] });

    try {
      // Act
      const outside = redact('posting to https://hooks.example.com/remembered-path');
      const inside = withRedactor(new Redactor({ values: ['hunter2'] }), () => redact('hunter2 and https://hooks.example.com/remembered-path'));

      // Assess
      expect(outside).toBe('posting to ***');
      expect(inside).toBe('*** and ***');
    } finally {
      forgetRememberedSecrets();
    }
    expect(redact('https://hooks.example.com/remembered-path')).toBe('https://hooks.example.com/remembered-path');
  });
});

describe('what is shown', () => {
  test('shownError shows an AWS error by its name and HTTP status, never its message', () => {
    const error = Object.assign(new Error('User: arn:aws:iam::123456789012:role/x is not authorized'), {
      name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 },
    });
    expect(shownError(error)).toBe('AccessDeniedException (HTTP 403)');
    expect(shownError(new TypeError('secret in here'))).toBe('TypeError');
    expect(shownError('a string with secret')).toBe('Error');
    expect(shownError({ name: 'bad name with spaces' })).toBe('Error');
  });

  test('shownError keeps the message of a ShownError', () => {
    expect(shownError(new ShownError('not read within 25 s', 'DeadlineExceeded'))).toBe('DeadlineExceeded: not read within 25 s');
  });

  test.each([
    ['api', 'api'], ['family:42', 'family:42'], ['arn:aws:ecs:us-east-1:123456789012:task/prod/abc', 'arn:aws:ecs:us-east-1:123456789012:task/prod/abc'],
    [3, '3'], [true, 'true'],
    ['psql postgres://admin:S3cr3t@db', undefined], ['DB_PASSWORD=hunter2', undefined], ['two words', undefined], [{ a: 1 }, undefined],
    ['https://x', undefined], ['', undefined], ['x'.repeat(2049), undefined],
  ])('shownIdentifier(%p) is %p', (value, shown) => {
    expect(shownIdentifier(value)).toBe(shown);
  });
});

describe('the functions\' logger', () => {
  test('masks every string of a log line: the message, attributes, nested values and an error\'s message and stack', () => {
    // Prepare
    const stdout = new StdoutCapture().start();
    const error = new Error('connect failed for postgres://admin:S3cr3t@db');

    // Act
    try {
      withRedactor(new Redactor({ values: ['hunter2-known'] }), () => {
        logger.error('StopTask reason=x DB_PASSWORD=hunter2', { why: 'hunter2-known', nested: { list: ['Bearer 0123456789abcdef'] }, error });
      });
    } finally {
      stdout.stop();
    }

    // Assess
    const line = stdout.lines.join('\n');
    for (const secret of ['hunter2', 'S3cr3t', '0123456789abcdef']) expect(line).not.toContain(secret);
    expect(stdout.json()[0]).toMatchObject({
      message: 'StopTask reason=x DB_PASSWORD=***',
      why: MASK,
      nested: { list: ['Bearer ***'] },
      error: { message: 'connect failed for postgres://admin:***@db' },
    });
  });
});

describe('describeError', () => {
  test('masks what it returns, with the active redactor\'s values inside a scope', () => {
    const error = Object.assign(new Error('bad URL postgres://admin:S3cr3t@db for hunter2-known'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect(describeError(error)).toBe('InvalidParameterException (HTTP 400): bad URL postgres://admin:***@db for hunter2-known');
    expect(withRedactor(new Redactor({ values: ['hunter2-known'] }), () => describeError(error))).toBe(
      'InvalidParameterException (HTTP 400): bad URL postgres://admin:***@db for ***');
    expect(describeError('token=abc123')).toBe('token=***');
  });
});

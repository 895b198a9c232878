import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { FakeClock } from './support';
import { clearWebhookUrlCache, resolveWebhookUrl, WEBHOOK_URL_MAX_AGE_MS, WebhookUrlError } from '../../../lambda/common/notifier/secrets';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:ops/slack-webhook-AbCdEf';
const PARAMETER = '/ops/teams/webhook-url';
const SLACK_URL = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const ROTATED_URL = 'https://hooks.slack.com/services/T00000000/B00000000/YYYYYYYYYYYYYYYYYYYYYYYY';

afterEach(() => {
  secretsManager.reset();
  ssm.reset();
  clearWebhookUrlCache();
});

/** Run `fn`, expect a WebhookUrlError, and return it. */
async function failure(fn: () => Promise<unknown>): Promise<WebhookUrlError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookUrlError);
    return err as WebhookUrlError;
  }
  throw new Error('expected a WebhookUrlError');
}

describe('Secrets Manager', () => {
  test('reads a secret whose whole string is the URL', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: `${SLACK_URL}\n` });

    // Act
    const url = await resolveWebhookUrl({ secretArn: SECRET_ARN });

    // Assess
    expect(url).toBe(SLACK_URL);
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  test('reads one key of a JSON secret', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ channel: '#ops', webhookUrl: SLACK_URL }) });
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN, secretJsonKey: 'webhookUrl' })).resolves.toBe(SLACK_URL);
  });

  test('fails for a missing JSON key, naming the secret and the key but not the URL', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: SLACK_URL }) });

    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN, secretJsonKey: 'webhookUrl' }));

    expect(err.reason).toBe('missing-json-key');
    expect(err.message).toContain(SECRET_ARN);
    expect(err.message).toContain('"webhookUrl"');
    expect(err.message).toContain('keys present: "url"');
    expect(err.message).not.toContain('hooks.slack.com');
  });

  test('fails when secretJsonKey is set but the secret is not JSON', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: SLACK_URL });
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN, secretJsonKey: 'webhookUrl' }));
    expect(err.reason).toBe('not-json');
    expect(err.message).not.toContain('XXXXXXXX');
  });

  test('fails when the secret is JSON but no secretJsonKey is set', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ webhookUrl: SLACK_URL }) });
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN }));
    expect(err.reason).toBe('json-without-key');
    expect(err.message).toMatch(/set secretJsonKey/);
    expect(err.message).not.toContain('XXXXXXXX');
  });

  test('fails for a secret that does not exist', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN }));
    expect(err.reason).toBe('not-found');
    expect(err.message).toBe(`Webhook URL secret ${SECRET_ARN} was not found (ResourceNotFoundException)`);
  });

  test('fails for access denied, saying which permission is needed', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new SecretsManagerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
      message: 'User is not authorized to perform: secretsmanager:GetSecretValue',
    }));
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN }));
    expect(err.reason).toBe('access-denied');
    expect(err.message).toContain(SECRET_ARN);
    expect(err.message).toContain('secretsmanager:GetSecretValue');
  });

  test('fails for a URL that is not https, without showing it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'http://hooks.example.com/token-123' });
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN }));
    expect(err.reason).toBe('not-https');
    expect(err.message).toBe(`Webhook URL secret ${SECRET_ARN} is not an https URL (scheme http)`);
  });

  test('fails for a value that is not a URL, without showing it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'token-123' });
    const err = await failure(() => resolveWebhookUrl({ secretArn: SECRET_ARN }));
    expect(err.reason).toBe('invalid-url');
    expect(err.message).not.toContain('token-123');
  });

  test('allows http://127.0.0.1 and localhost only when asked to', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'http://127.0.0.1:8080/hook' });
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN })).rejects.toThrow(/not an https URL/);
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN }, { allowInsecureLocalhost: true })).resolves.toBe('http://127.0.0.1:8080/hook');

    clearWebhookUrlCache();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'http://10.0.0.1/hook' });
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN }, { allowInsecureLocalhost: true })).rejects.toThrow(/not an https URL/);
  });
});

describe('SSM Parameter Store', () => {
  test('reads a SecureString with decryption', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Type: 'SecureString', Value: SLACK_URL } });

    // Act
    const url = await resolveWebhookUrl({ parameterName: PARAMETER });

    // Assess
    expect(url).toBe(SLACK_URL);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: PARAMETER, WithDecryption: true });
  });

  test('fails for a parameter that does not exist', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', $metadata: {} }));
    const err = await failure(() => resolveWebhookUrl({ parameterName: PARAMETER }));
    expect(err.message).toBe(`Webhook URL parameter ${PARAMETER} was not found (ParameterNotFound)`);
  });
});

describe('cache', () => {
  test('reads a secret once within 10 minutes, and again after', async () => {
    // Prepare
    const clock = new FakeClock();
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: SLACK_URL }).resolves({ SecretString: ROTATED_URL });

    // Act
    const first = await resolveWebhookUrl({ secretArn: SECRET_ARN }, { clock });
    clock.time += WEBHOOK_URL_MAX_AGE_MS - 1;
    const cached = await resolveWebhookUrl({ secretArn: SECRET_ARN }, { clock });
    clock.time += 1;
    const fresh = await resolveWebhookUrl({ secretArn: SECRET_ARN }, { clock });

    // Assess
    expect([first, cached, fresh]).toEqual([SLACK_URL, SLACK_URL, ROTATED_URL]);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  test('refresh reads the value again at once, and the next call uses what it read', async () => {
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: SLACK_URL } }).resolves({ Parameter: { Value: ROTATED_URL } });

    await resolveWebhookUrl({ parameterName: PARAMETER });
    const refreshed = await resolveWebhookUrl({ parameterName: PARAMETER }, { refresh: true });
    const next = await resolveWebhookUrl({ parameterName: PARAMETER });

    expect([refreshed, next]).toEqual([ROTATED_URL, ROTATED_URL]);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  test('concurrent first calls share one request', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: SLACK_URL } });

    const urls = await Promise.all([1, 2, 3, 4, 5].map(() => resolveWebhookUrl({ parameterName: PARAMETER })));

    expect(urls).toEqual(Array(5).fill(SLACK_URL));
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  test('does not keep a failed read, so the next call tries again', async () => {
    secretsManager.on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'not yet', $metadata: {} }))
      .resolves({ SecretString: SLACK_URL });

    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN })).rejects.toThrow(/was not found/);
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN })).resolves.toBe(SLACK_URL);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  test('two keys of one JSON secret need one read', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ slack: SLACK_URL, teams: 'https://prod-00.westeurope.logic.azure.com/workflows/abc' }),
    });
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN, secretJsonKey: 'slack' })).resolves.toBe(SLACK_URL);
    await expect(resolveWebhookUrl({ secretArn: SECRET_ARN, secretJsonKey: 'teams' })).resolves.toMatch(/^https:\/\/prod-00/);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });
});

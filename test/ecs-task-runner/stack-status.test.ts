/**
 * The stack status query: Signature Version 4 as AWS documents it, the endpoint an SDK client would use, and
 * DescribeStacks over HTTP against the AWS stand-in (answers, retried throttling and 5xx, errors that are final).
 */
import { cloudFormationEndpoint, describeStackStatus, signV4 } from '../../lambda/ecs-task-runner/stack-status';
import { AwsStandin } from '../support/aws-standin';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Deploy/0a1b2c3d-0000-4000-8000-000000000001';

describe('signV4', () => {
  test('signs the example of the AWS General Reference ("Signature Version 4 signing process", IAM ListUsers)', () => {
    const headers = signV4({
      method: 'GET',
      url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
      region: 'us-east-1',
      service: 'iam',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      date: new Date('2015-08-30T12:36:00Z'),
    });
    expect(headers.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, '
      + 'SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  test('signs a DescribeStacks POST with a session token as the SDK\'s signer (@smithy/signature-v4) does', () => {
    // Expected value computed with @smithy/signature-v4 (the AWS SDK's signer) for the same request, date and credentials.
    const body = 'Action=DescribeStacks&StackName=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack%2Fops%2Fabc&Version=2010-05-15';
    const headers = signV4({
      method: 'POST',
      url: new URL('https://cloudformation.eu-west-1.amazonaws.com/'),
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'x-amz-content-sha256': '5ea7571e00813a3484cf572da84f8b8e0dca3693597c90f289f41a4d95fe4297',
      },
      body,
      region: 'eu-west-1',
      service: 'cloudformation',
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'TOK' },
      date: new Date('2026-01-02T03:04:05Z'),
    });
    expect(headers['x-amz-security-token']).toBe('TOK');
    expect(headers.authorization).toBe('AWS4-HMAC-SHA256 Credential=AK/20260102/eu-west-1/cloudformation/aws4_request, '
      + 'SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, '
      + 'Signature=7f80c13a8871f94c42db7b113556bcc6f47e9c0c8d9403bbb01c4d6e8c7dfc9d');
  });
});

describe('cloudFormationEndpoint', () => {
  test('is the stack region\'s endpoint in its partition, or the configured one', () => {
    expect(cloudFormationEndpoint(STACK_ID, {}).url.href).toBe('https://cloudformation.eu-west-1.amazonaws.com/');
    expect(cloudFormationEndpoint('arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/x/y', {}).url.href).toBe('https://cloudformation.cn-north-1.amazonaws.com.cn/');
    expect(cloudFormationEndpoint(STACK_ID, { AWS_USE_FIPS_ENDPOINT: 'true' }).url.host).toBe('cloudformation-fips.eu-west-1.amazonaws.com');
    expect(cloudFormationEndpoint(STACK_ID, { AWS_ENDPOINT_URL: 'http://127.0.0.1:1234' })).toEqual({ url: new URL('http://127.0.0.1:1234'), region: 'eu-west-1' });
    expect(cloudFormationEndpoint(STACK_ID, { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://b' }).url.href).toBe('http://b/');
  });
});

describe('describeStackStatus', () => {
  let standin: AwsStandin;
  let env: Record<string, string>;

  beforeEach(async () => {
    standin = await new AwsStandin().start();
    env = { AWS_ENDPOINT_URL: standin.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
  });

  afterEach(async () => {
    await standin.stop();
  });

  const answer = (status: string) => ({ DescribeStacksResult: { Stacks: [{ StackName: 'Deploy', StackStatus: status }] } });

  test('asks CloudFormation for the stack by its id, signed for the stack\'s region', async () => {
    standin.on('cloudformation', 'DescribeStacks', answer('UPDATE_ROLLBACK_IN_PROGRESS'));

    const status = await describeStackStatus(STACK_ID, env);

    expect(status).toBe('UPDATE_ROLLBACK_IN_PROGRESS');
    expect(standin.calls).toEqual([expect.objectContaining({
      service: 'cloudformation',
      operation: 'DescribeStacks',
      protocol: 'awsQuery',
      region: 'eu-west-1',
      input: { StackName: STACK_ID },
    })]);
  });

  test('tries throttling and 5xx again, then answers', async () => {
    let calls = 0;
    standin.on('cloudformation', 'DescribeStacks', () => {
      calls += 1;
      if (calls === 1) throw standin.error('Throttling', 'Rate exceeded');
      if (calls === 2) throw standin.error('InternalFailure', 'try again', 500);
      return answer('UPDATE_IN_PROGRESS');
    });

    await expect(describeStackStatus(STACK_ID, env)).resolves.toBe('UPDATE_IN_PROGRESS');
    expect(calls).toBe(3);
  });

  test('fails at once on an error that will not pass, and after four attempts on one that does not', async () => {
    standin.on('cloudformation', 'DescribeStacks', () => standin.error('ValidationError', `Stack with id ${STACK_ID} does not exist`));
    await expect(describeStackStatus(STACK_ID, env)).rejects.toMatchObject({ name: 'ValidationError', message: `Stack with id ${STACK_ID} does not exist` });
    expect(standin.calls).toHaveLength(1);

    standin.reset();
    standin.on('cloudformation', 'DescribeStacks', () => standin.error('Throttling', 'Rate exceeded'));
    await expect(describeStackStatus(STACK_ID, env)).rejects.toMatchObject({ name: 'Throttling' });
    expect(standin.calls).toHaveLength(4);

    await expect(describeStackStatus(STACK_ID, { AWS_ENDPOINT_URL: standin.url })).rejects.toMatchObject({ name: 'CredentialsMissing' });
  });
});

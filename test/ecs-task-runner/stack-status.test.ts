/**
 * The stack status query: DescribeStacks through the bundled CloudFormation client against the AWS stand-in
 * (answers, retried throttling and 5xx, errors that are final, an answer without a status).
 */
import { describeStackStatus } from '../../lambda/ecs-task-runner/stack-status';
import { AwsStandin } from '../support/aws-standin';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Deploy/0a1b2c3d-0000-4000-8000-000000000001';
const ENV_KEYS = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

let standin: AwsStandin;
const saved: Partial<Record<string, string>> = {};

beforeAll(async () => {
  standin = await new AwsStandin().start();
  for (const key of ENV_KEYS) saved[key] = process.env[key];
  // The client is created on first use and kept, as in Lambda: one endpoint for the whole file.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: standin.url, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token',
  });
});

afterAll(async () => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  await standin.stop();
});

beforeEach(() => standin.reset());

const answer = (status: string) => ({ Stacks: [{ StackName: 'Deploy', StackId: STACK_ID, StackStatus: status, CreationTime: new Date() }] });

test('asks CloudFormation for the stack by its id, in the function\'s region', async () => {
  standin.on('cloudformation', 'DescribeStacks', answer('UPDATE_ROLLBACK_IN_PROGRESS'));

  const status = await describeStackStatus(STACK_ID);

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

  await expect(describeStackStatus(STACK_ID)).resolves.toBe('UPDATE_IN_PROGRESS');
  expect(calls).toBe(3);
});

test('fails at once on an error that will not pass, with its code and HTTP status', async () => {
  standin.on('cloudformation', 'DescribeStacks', () => standin.error('ValidationError', `Stack with id ${STACK_ID} does not exist`));

  await expect(describeStackStatus(STACK_ID)).rejects.toMatchObject({
    name: 'ValidationError', message: `Stack with id ${STACK_ID} does not exist`, $metadata: { httpStatusCode: 400 },
  });
  expect(standin.calls).toHaveLength(1);
});

test('fails clearly on an answer without the stack\'s status', async () => {
  standin.on('cloudformation', 'DescribeStacks', { Stacks: [] });

  await expect(describeStackStatus(STACK_ID)).rejects.toThrow(`CloudFormation DescribeStacks answered without a status for ${STACK_ID}`);
});

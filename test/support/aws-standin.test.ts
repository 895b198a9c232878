import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  ResourceContentionFault,
  SetInstanceHealthCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTableCommand, DynamoDBClient, QueryCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  ClusterNotFoundException,
  DescribeClustersCommand,
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand,
} from '@aws-sdk/client-ecs';
import { DescribeCacheClustersCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetTopicAttributesCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsStandin, STANDIN_ERROR_CODES, credentialScope, parseQuery } from './aws-standin';

// The real SDK v3 clients, in this process, pointed at the stand-in. The bundled clients reach it through
// AWS_ENDPOINT_URL instead: run-bundle.test.ts covers that path.

const standin = new AwsStandin();
const REGION = 'us-east-1';
let config: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };

beforeAll(async () => {
  await standin.start();
  config = {
    endpoint: standin.url,
    region: REGION,
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'secret', sessionToken: 'token' },
  };
});
afterEach(() => standin.reset());
afterAll(() => standin.stop());

interface RawAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

/** A request as a client signs it, for checking the wire format itself. */
async function raw(service: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
  const response = await fetch(standin.url, {
    method: 'POST',
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDSTANDIN/20261122/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
    },
    body,
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

describe('awsJson 1.1 (ECS, SSM, Secrets Manager)', () => {
  test('answers are deserialized by the client and calls are recorded with their input', async () => {
    // Prepare
    standin.on('ecs', 'ListClusters', (input) => ({
      clusterArns: [`arn:aws:ecs:us-east-1:123456789012:cluster/page-${input.maxResults}`],
      nextToken: 'next',
    }));

    // Act
    const output = await new ECSClient(config).send(new ListClustersCommand({ maxResults: 5 }));

    // Assess
    expect(output.clusterArns).toEqual(['arn:aws:ecs:us-east-1:123456789012:cluster/page-5']);
    expect(output.nextToken).toBe('next');
    expect(standin.callsTo('ecs', 'ListClusters')).toEqual([
      { service: 'ecs', operation: 'ListClusters', protocol: 'awsJson1_1', region: REGION, input: { maxResults: 5 }, status: 200 },
    ]);
  });

  test('timestamps go out as epoch seconds and come back as Dates', async () => {
    const createdAt = new Date('2026-11-22T08:30:15.250Z');
    standin.on('ecs', 'DescribeServices', {
      services: [{ serviceName: 'web', createdAt, deployments: [{ id: 'ecs-svc/1', createdAt, rolloutState: 'COMPLETED' }] }],
      failures: [],
    });

    const output = await new ECSClient(config).send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));

    expect(output.services?.[0].createdAt).toEqual(createdAt);
    expect(output.services?.[0].deployments?.[0]).toEqual({ id: 'ecs-svc/1', createdAt, rolloutState: 'COMPLETED' });
  });

  test('the wire answer is JSON with the protocol content type', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: ['a'] });

    const response = await raw('ecs', {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters',
    }, '{}');

    expect(response).toEqual({ status: 200, contentType: 'application/x-amz-json-1.1', body: '{"clusterArns":["a"]}' });
  });

  test('an error answer raises the modelled exception class', async () => {
    standin.on('ecs', 'DescribeClusters', () => standin.error('ClusterNotFoundException', 'Cluster not found.'));

    const sent = new ECSClient(config).send(new DescribeClustersCommand({ clusters: ['gone'] }));

    await expect(sent).rejects.toThrow(ClusterNotFoundException);
    await expect(sent).rejects.toMatchObject({ name: 'ClusterNotFoundException', message: 'Cluster not found.', $metadata: { httpStatusCode: 400 } });
    expect(standin.callsTo('ecs', 'DescribeClusters')).toEqual([expect.objectContaining({
      input: { clusters: ['gone'] }, status: 400, errorCode: 'ClusterNotFoundException', errorMessage: 'Cluster not found.',
    })]);
  });

  test('a thrown error answer is the same as a returned one', async () => {
    standin.on('ecs', 'DescribeClusters', () => {
      throw standin.error('ClusterNotFoundException', 'Cluster not found.');
    });

    await expect(new ECSClient(config).send(new DescribeClustersCommand({}))).rejects.toThrow(ClusterNotFoundException);
  });

  test('SSM and Secrets Manager answers are deserialized', async () => {
    standin.on('ssm', 'GetParameter', (input) => ({ Parameter: { Name: input.Name, Type: 'String', Value: 'v1', Version: 3 } }));
    standin.on('secretsmanager', 'GetSecretValue', (input) => ({ ARN: `arn:${input.SecretId}`, SecretString: '{"url":"https://hooks"}' }));

    const parameter = await new SSMClient(config).send(new GetParameterCommand({ Name: '/app/flag' }));
    const secret = await new SecretsManagerClient(config).send(new GetSecretValueCommand({ SecretId: 'slack' }));

    expect(parameter.Parameter).toEqual({ Name: '/app/flag', Type: 'String', Value: 'v1', Version: 3 });
    expect(secret).toMatchObject({ ARN: 'arn:slack', SecretString: '{"url":"https://hooks"}' });
    expect(standin.calls.map((c) => [c.service, c.operation, c.protocol])).toEqual([
      ['ssm', 'GetParameter', 'awsJson1_1'],
      ['secretsmanager', 'GetSecretValue', 'awsJson1_1'],
    ]);
  });
});

describe('awsJson 1.0 (DynamoDB)', () => {
  test('answers are deserialized and the input is recorded', async () => {
    standin.on('dynamodb', 'Query', (input) => ({
      Items: [{ cluster: input.ExpressionAttributeValues[':c'], failures: { N: '2' } }],
      Count: 1,
      ScannedCount: 1,
    }));

    const output = await new DynamoDBClient(config).send(new QueryCommand({
      TableName: 'failures', KeyConditionExpression: 'cluster = :c', ExpressionAttributeValues: { ':c': { S: 'prod' } },
    }));

    expect(output.Items).toEqual([{ cluster: { S: 'prod' }, failures: { N: '2' } }]);
    expect(output.Count).toBe(1);
    expect(standin.callsTo('dynamodb', 'Query')[0]).toMatchObject({
      protocol: 'awsJson1_0',
      input: { TableName: 'failures', KeyConditionExpression: 'cluster = :c', ExpressionAttributeValues: { ':c': { S: 'prod' } } },
    });
  });

  test('errors raise the modelled exception, and a 500 is retried by the client', async () => {
    let calls = 0;
    standin.on('dynamodb', 'Query', () => (++calls === 1 ? standin.error('InternalServerError', 'try again', 500) : { Items: [], Count: 0 }));
    standin.on('dynamodb', 'DescribeTable', () => standin.error('ResourceNotFoundException', 'Requested resource not found'));
    const client = new DynamoDBClient(config);

    const output = await client.send(new QueryCommand({ TableName: 'failures' }));
    const missing = client.send(new DescribeTableCommand({ TableName: 'gone' }));

    expect(output.$metadata.attempts).toBe(2);
    expect(standin.callsTo('dynamodb', 'Query').map((c) => c.status)).toEqual([500, 200]);
    await expect(missing).rejects.toThrow(ResourceNotFoundException);
  });

  test('the wire answer has the 1.0 content type and a __type error', async () => {
    standin.on('dynamodb', 'Query', () => standin.error('ThrottlingException', 'Rate exceeded'));

    const response = await raw('dynamodb', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Query' }, '{}');

    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(response.body)).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
  });
});

describe('awsQuery (Auto Scaling, SNS, ElastiCache)', () => {
  test('a list answer is deserialized, and the query input becomes a structure', async () => {
    standin.on('autoscaling', 'DescribeAutoScalingInstances', (input) => ({
      AutoScalingInstances: input.InstanceIds.map((id: string) => ({
        InstanceId: id,
        AutoScalingGroupName: 'prod-asg',
        AvailabilityZone: 'us-east-1a',
        LifecycleState: 'InService',
        HealthStatus: 'HEALTHY',
        ProtectedFromScaleIn: id === 'i-2',
      })),
    }));

    const output = await new AutoScalingClient(config).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-1', 'i-2'] }));

    expect(output.AutoScalingInstances?.map((i) => [i.InstanceId, i.AutoScalingGroupName, i.ProtectedFromScaleIn])).toEqual([
      ['i-1', 'prod-asg', false],
      ['i-2', 'prod-asg', true],
    ]);
    expect(standin.callsTo('autoscaling', 'DescribeAutoScalingInstances')).toEqual([
      { service: 'autoscaling', operation: 'DescribeAutoScalingInstances', protocol: 'awsQuery', region: REGION, input: { InstanceIds: ['i-1', 'i-2'] }, status: 200 },
    ]);
  });

  test('the wire answer is <OpResponse><OpResult> with <member> lists and the request id', async () => {
    standin.on('autoscaling', 'DescribeAutoScalingInstances', {
      AutoScalingInstances: [{ InstanceId: 'i-1', AutoScalingGroupName: 'g', AvailabilityZone: 'a', LifecycleState: 'InService', HealthStatus: 'HEALTHY' }],
    });

    const response = await raw('autoscaling', { 'content-type': 'application/x-www-form-urlencoded' },
      'Action=DescribeAutoScalingInstances&Version=2011-01-01&InstanceIds.member.1=i-1');

    expect(response.status).toBe(200);
    expect(response.contentType).toBe('text/xml');
    expect(response.body).toMatch(new RegExp(
      '^<DescribeAutoScalingInstancesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">' +
      '<DescribeAutoScalingInstancesResult><AutoScalingInstances><member><InstanceId>i-1</InstanceId>.*</member></AutoScalingInstances>' +
      '</DescribeAutoScalingInstancesResult><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata>' +
      '</DescribeAutoScalingInstancesResponse>$'));
  });

  test('an operation without output is answered with the response metadata only', async () => {
    standin.on('autoscaling', 'SetInstanceHealth', () => undefined);

    const output = await new AutoScalingClient(config).send(new SetInstanceHealthCommand({ InstanceId: 'i-1', HealthStatus: 'Unhealthy' }));

    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(standin.callsTo('autoscaling', 'SetInstanceHealth')[0].input).toEqual({ InstanceId: 'i-1', HealthStatus: 'Unhealthy' });
  });

  test('an error code maps to the modelled fault, and a 500 fault is retried', async () => {
    let calls = 0;
    standin.on('autoscaling', 'DescribeAutoScalingInstances', () =>
      (++calls <= 2 ? standin.error('ResourceContention', 'You already have a pending update', 500) : { AutoScalingInstances: [] }));
    standin.on('autoscaling', 'SetInstanceHealth', () => standin.error('ResourceContention', 'You already have a pending update', 500));
    const client = new AutoScalingClient({ ...config, maxAttempts: 1 });

    const retried = await new AutoScalingClient(config).send(new DescribeAutoScalingInstancesCommand({}));
    const failed = client.send(new SetInstanceHealthCommand({ InstanceId: 'i-1', HealthStatus: 'Unhealthy' }));

    expect(retried.$metadata.attempts).toBe(3);
    await expect(failed).rejects.toThrow(ResourceContentionFault);
    await expect(failed).rejects.toMatchObject({ message: 'You already have a pending update', Error: { Code: 'ResourceContention', Type: 'Receiver' } });
  });

  test('the wire error is <ErrorResponse><Error><Type>Sender</Type><Code>', async () => {
    standin.on('sns', 'Publish', () => standin.error('Throttling', 'Rate exceeded'));

    const response = await raw('sns', { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=Publish&Version=2010-03-31&Message=hi');

    expect(response.status).toBe(400);
    expect(response.body).toMatch(new RegExp('^<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
      '<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$'));
  });

  test('SNS: a map answer is deserialized, and map input entries become a list', async () => {
    standin.on('sns', 'Publish', { MessageId: 'msg-1' });
    standin.on('sns', 'GetTopicAttributes', { Attributes: { DisplayName: 'ops', SubscriptionsConfirmed: '2' } });
    const sns = new SNSClient(config);

    const published = await sns.send(new PublishCommand({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
      Message: 'hello & <bye>',
      MessageAttributes: { cluster: { DataType: 'String', StringValue: 'prod' } },
    }));
    const attributes = await sns.send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:ops' }));

    expect(published.MessageId).toBe('msg-1');
    expect(attributes.Attributes).toEqual({ DisplayName: 'ops', SubscriptionsConfirmed: '2' });
    expect(standin.callsTo('sns', 'Publish')[0].input).toEqual({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
      Message: 'hello & <bye>',
      MessageAttributes: [{ Name: 'cluster', Value: { DataType: 'String', StringValue: 'prod' } }],
    });
  });

  test('ElastiCache: list items take the XML name the schema gives them', async () => {
    standin.on('elasticache', 'DescribeCacheClusters', {
      CacheClusters: [{ CacheClusterId: 'failures-001', Engine: 'redis', CacheClusterStatus: 'available', NumCacheNodes: 1 }],
    });

    const output = await new ElastiCacheClient(config).send(new DescribeCacheClustersCommand({ CacheClusterId: 'failures-001' }));

    expect(output.CacheClusters).toEqual([{ CacheClusterId: 'failures-001', Engine: 'redis', CacheClusterStatus: 'available', NumCacheNodes: 1 }]);
  });
});

describe('ec2Query (EC2)', () => {
  test('answers take the schema\'s lowerCamelCase names and <item> lists, and the input its wire names', async () => {
    standin.on('ec2', 'TerminateInstances', (input) => ({
      TerminatingInstances: input.InstanceId.map((id: string) => ({
        InstanceId: id, CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' },
      })),
    }));

    const output = await new EC2Client(config).send(new TerminateInstancesCommand({ InstanceIds: ['i-1', 'i-2'] }));

    expect(output.TerminatingInstances).toEqual([
      { InstanceId: 'i-1', CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' } },
      { InstanceId: 'i-2', CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' } },
    ]);
    expect(standin.callsTo('ec2', 'TerminateInstances')).toEqual([
      { service: 'ec2', operation: 'TerminateInstances', protocol: 'ec2Query', region: REGION, input: { InstanceId: ['i-1', 'i-2'] }, status: 200 },
    ]);
  });

  test('nested lists and timestamps survive the trip', async () => {
    const launchTime = new Date('2026-11-20T10:00:00.000Z');
    standin.on('ec2', 'DescribeInstances', {
      Reservations: [{ ReservationId: 'r-1', Instances: [{ InstanceId: 'i-1', LaunchTime: launchTime, Tags: [{ Key: 'Name', Value: 'a' }] }] }],
    });

    const output = await new EC2Client(config).send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:env', Values: ['prod', 'dev'] }] }));

    expect(output.Reservations).toEqual([{ ReservationId: 'r-1', Instances: [{ InstanceId: 'i-1', LaunchTime: launchTime, Tags: [{ Key: 'Name', Value: 'a' }] }] }]);
    expect(standin.callsTo('ec2', 'DescribeInstances')[0].input).toEqual({ Filter: [{ Name: 'tag:env', Value: ['prod', 'dev'] }] });
  });

  test('the wire answer has <requestId>, the XML names and <item> lists; the wire error has <Errors>', async () => {
    standin.on('ec2', 'TerminateInstances', { TerminatingInstances: [{ InstanceId: 'i-1' }] });
    standin.on('ec2', 'StopInstances', () => standin.error('InvalidInstanceID.NotFound', "The instance ID 'i-9' does not exist"));
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    const answer = await raw('ec2', form, 'Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1');
    const error = await raw('ec2', form, 'Action=StopInstances&Version=2016-11-15&InstanceId.1=i-9');

    expect(answer.body).toMatch(new RegExp('^<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
      '<requestId>[0-9a-f-]{36}</requestId><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet></TerminateInstancesResponse>$'));
    expect(error.status).toBe(400);
    expect(error.body).toMatch(new RegExp('^<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>' +
      '<Message>The instance ID &#39;i-9&#39; does not exist</Message></Error></Errors><RequestID>[0-9a-f-]{36}</RequestID></Response>$'));
  });

  test('an error code reaches the client as the error name', async () => {
    standin.on('ec2', 'TerminateInstances', () => standin.error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));

    await expect(new EC2Client(config).send(new TerminateInstancesCommand({ InstanceIds: ['i-1'] })))
      .rejects.toMatchObject({ name: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.', $metadata: { httpStatusCode: 403 } });
  });
});

describe('what fails a test', () => {
  test('an operation nobody registered fails once, naming the service and operation, and is recorded', async () => {
    const sent = new ECSClient(config).send(new DescribeClustersCommand({ clusters: ['prod'] }));

    await expect(sent).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.noAnswer,
      message: expect.stringContaining('no answer registered for ecs DescribeClusters'),
      $metadata: { attempts: 1 },
    });
    expect(standin.calls).toEqual([expect.objectContaining({
      service: 'ecs', operation: 'DescribeClusters', input: { clusters: ['prod'] }, status: 400, errorCode: STANDIN_ERROR_CODES.noAnswer,
    })]);
  });

  test('an unregistered query operation fails the same way', async () => {
    await expect(new EC2Client(config).send(new TerminateInstancesCommand({ InstanceIds: ['i-1'] })))
      .rejects.toMatchObject({ name: STANDIN_ERROR_CODES.noAnswer, message: expect.stringContaining('ec2 TerminateInstances') });
    await expect(new SNSClient(config).send(new PublishCommand({ Message: 'm' })))
      .rejects.toMatchObject({ name: STANDIN_ERROR_CODES.noAnswer, message: expect.stringContaining('sns Publish') });
  });

  test('an answer with a member the output does not have is refused, naming the member', async () => {
    standin.on('ecs', 'ListClusters', { clusterArn: ['a'] });
    standin.on('ec2', 'TerminateInstances', { TerminatingInstances: [{ InstanceId: 'i-1', State: 'gone' }] });

    await expect(new ECSClient(config).send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.badAnswer,
      message: 'aws-standin: the answer to ecs ListClusters has clusterArn, which ListClustersResponse does not have (it has clusterArns, nextToken)',
    });
    await expect(new EC2Client(config).send(new TerminateInstancesCommand({ InstanceIds: ['i-1'] }))).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.badAnswer,
      message: expect.stringContaining('has TerminatingInstances[0].State, which InstanceStateChange does not have'),
    });
  });

  test('an answer with a value of the wrong kind is refused, naming where', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' });
    standin.on('autoscaling', 'DescribeAutoScalingInstances', { AutoScalingInstances: [{ InstanceId: 'i-1', ProtectedFromScaleIn: 'yes' }] });

    await expect(new ECSClient(config).send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.badAnswer, message: expect.stringContaining('has string "arn:aws:ecs:us-east-1:123456789012:cluster/prod" at clusterArns, where a list is expected'),
    });
    await expect(new AutoScalingClient(config).send(new DescribeAutoScalingInstancesCommand({}))).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.badAnswer, message: expect.stringContaining('at AutoScalingInstances[0].ProtectedFromScaleIn, where a boolean is expected'),
    });
  });

  test('an answer that throws something else fails the call with what it threw', async () => {
    standin.on('ecs', 'ListClusters', () => {
      throw new RangeError('fixture bug');
    });

    await expect(new ECSClient(config).send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: STANDIN_ERROR_CODES.answerFailed, message: 'aws-standin: the answer to ecs ListClusters threw RangeError: fixture bug',
    });
    expect(standin.calls[0].status).toBe(400);
  });

  test('a request without a SigV4 credential scope is refused and recorded', async () => {
    const response = await fetch(standin.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'X.Y' }, body: '{}' });

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('no SigV4 Authorization header');
    expect(standin.calls).toEqual([expect.objectContaining({ service: 'unknown', operation: 'Y', errorCode: STANDIN_ERROR_CODES.badRequest })]);
  });

  test('answers registered later replace earlier ones, and reset() forgets answers and calls', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: ['first'] }).on('ecs', 'ListClusters', { clusterArns: ['second'] });
    const ecs = new ECSClient(config);

    const output = await ecs.send(new ListClustersCommand({}));
    standin.reset();

    expect(output.clusterArns).toEqual(['second']);
    expect(standin.calls).toEqual([]);
    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: STANDIN_ERROR_CODES.noAnswer });
  });
});

describe('faults', () => {
  test.each([
    ['ecs', () => new ECSClient({ ...config, maxAttempts: 2 }).send(new ListClustersCommand({})), 'ThrottlingException'],
    ['dynamodb', () => new DynamoDBClient({ ...config, maxAttempts: 2 }).send(new DescribeTableCommand({ TableName: 't' })), 'ProvisionedThroughputExceededException'],
    ['sns', () => new SNSClient({ ...config, maxAttempts: 2 }).send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' })), 'Throttling'],
    ['ec2', () => new EC2Client({ ...config, maxAttempts: 2 }).send(new DescribeInstancesCommand({})), 'RequestLimitExceeded'],
  ])('throttle: %s answers its throttling error, which the client retries, whatever answer is registered', async (service, call, code) => {
    // Prepare
    standin.on('ecs', 'ListClusters', { clusterArns: [] });
    standin.fault({ service, mode: 'throttle' });

    // Act
    const error = await call().catch((e) => e);

    // Assess
    expect(error.name).toBe(code);
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 });
    expect(standin.calls.map((c) => [c.service, c.status, c.errorCode, c.fault])).toEqual([[service, 400, code, 'throttle'], [service, 400, code, 'throttle']]);
  });

  test('error500: the service answers 500 InternalFailure (InternalServerError for DynamoDB), which the client retries', async () => {
    // Prepare
    standin.fault({ service: 'ecs', mode: 'error500' });
    standin.fault({ service: 'dynamodb', mode: 'error500' });

    // Act
    const ecsError = await new ECSClient({ ...config, maxAttempts: 2 }).send(new ListClustersCommand({})).catch((e) => e);
    const dynamoError = await new DynamoDBClient({ ...config, maxAttempts: 1 }).send(new DescribeTableCommand({ TableName: 't' })).catch((e) => e);

    // Assess
    expect([ecsError.name, ecsError.$metadata.httpStatusCode, ecsError.$metadata.attempts]).toEqual(['InternalFailure', 500, 2]);
    expect([dynamoError.name, dynamoError.$metadata.httpStatusCode]).toEqual(['InternalServerError', 500]);
  });

  test('hang: the call is recorded and never answered; only the client\'s own timeout ends it', async () => {
    // Prepare
    standin.on('ecs', 'ListClusters', { clusterArns: [] });
    standin.fault({ service: 'ecs', operation: 'ListClusters', mode: 'hang' });
    const client = new ECSClient({ ...config, maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });

    // Act
    const error = await client.send(new ListClustersCommand({})).catch((e) => e);

    // Assess
    expect(error.name).toBe('TimeoutError');
    expect(standin.calls).toEqual([expect.objectContaining({ service: 'ecs', operation: 'ListClusters', status: 0, fault: 'hang' })]);
  });

  test('a fault applies to its operation and the inputs `when` accepts only; clearFaults() ends every fault', async () => {
    // Prepare
    const ecs = new ECSClient({ ...config, maxAttempts: 1 });
    standin.on('ecs', 'DescribeClusters', (input: { clusters: string[] }) => ({ clusters: input.clusters.map((clusterName) => ({ clusterName })) }));
    standin.on('ecs', 'ListClusters', { clusterArns: [] });
    standin.fault({ service: 'ecs', operation: 'DescribeClusters', when: (input) => input.clusters.includes('blue'), mode: 'error500' });

    // Act
    const blue = await ecs.send(new DescribeClustersCommand({ clusters: ['blue'] })).catch((e) => e);
    const green = await ecs.send(new DescribeClustersCommand({ clusters: ['green'] }));
    const list = await ecs.send(new ListClustersCommand({}));
    standin.clearFaults();
    const blueAgain = await ecs.send(new DescribeClustersCommand({ clusters: ['blue'] }));

    // Assess
    expect(blue.name).toBe('InternalFailure');
    expect(green.clusters).toEqual([{ clusterName: 'green' }]);
    expect(list.clusterArns).toEqual([]);
    expect(blueAgain.clusters).toEqual([{ clusterName: 'blue' }]);
  });
});

describe('a service whose client package is not installed', () => {
  const bare = new AwsStandin({ clientPackages: { autoscaling: '@aws-sdk/client-not-installed', ec2: '@aws-sdk/client-not-installed' } });
  beforeAll(() => bare.start());
  afterAll(() => bare.stop());

  test('is answered by convention: awsQuery names as given with <member> lists, which the client reads', async () => {
    bare.on('autoscaling', 'DescribeAutoScalingInstances', { AutoScalingInstances: [{ InstanceId: 'i-1', ProtectedFromScaleIn: true }] });

    const output = await new AutoScalingClient({ ...config, endpoint: bare.url }).send(new DescribeAutoScalingInstancesCommand({}));

    expect(output.AutoScalingInstances).toEqual([{ InstanceId: 'i-1', ProtectedFromScaleIn: true }]);
  });

  test('is answered by convention: ec2Query names in lowerCamelCase with <item> lists, unchecked', async () => {
    bare.on('ec2', 'DescribeInstanceStatus', { InstanceStatuses: [{ InstanceId: 'i-1', Extra: 'x' }] });

    const response = await fetch(bare.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'authorization': 'AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: 'Action=DescribeInstanceStatus&Version=2016-11-15',
    });

    expect(await response.text()).toMatch(/<requestId>[0-9a-f-]{36}<\/requestId><instanceStatuses><item><instanceId>i-1<\/instanceId><extra>x<\/extra><\/item><\/instanceStatuses>/);
  });
});

describe('lifecycle', () => {
  test('url is 127.0.0.1 at the port chosen, and fails before start and after stop', async () => {
    const other = new AwsStandin();
    expect(() => other.url).toThrow(/not started/);

    await other.start();
    const url = other.url;
    await other.stop();
    await other.stop();

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(() => other.url).toThrow(/not started/);
  });
});

describe('parseQuery', () => {
  test.each([
    ['InstanceIds.member.1=i-1&InstanceIds.member.2=i-2', { InstanceIds: ['i-1', 'i-2'] }],
    ['InstanceId.1=i-1', { InstanceId: ['i-1'] }],
    ['Filter.1.Name=tag%3Aenv&Filter.1.Value.1=prod&Filter.2.Name=state', { Filter: [{ Name: 'tag:env', Value: ['prod'] }, { Name: 'state' }] }],
    ['Attributes.entry.1.key=a&Attributes.entry.1.value=1', { Attributes: [{ key: 'a', value: '1' }] }],
    ['Tags.member.1.Key=k&Tags.member.1.Value=v&MaxRecords=50', { Tags: [{ Key: 'k', Value: 'v' }], MaxRecords: '50' }],
    ['InstanceIds=', { InstanceIds: '' }],
  ])('%s', (body, expected) => {
    expect(parseQuery(new URLSearchParams(body))).toEqual(expected);
  });
});

describe('credentialScope', () => {
  test('reads region and service from a SigV4 Authorization header', () => {
    expect(credentialScope('AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/autoscaling/aws4_request, SignedHeaders=host, Signature=ab'))
      .toEqual({ region: 'eu-west-1', service: 'autoscaling' });
  });

  test('is undefined without one', () => {
    expect(credentialScope(undefined)).toBeUndefined();
    expect(credentialScope('Bearer token')).toBeUndefined();
  });
});

import { App, CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CfnTemplate, expectAllowed, expectDenied, IamSimulator, IntrinsicResolver } from './iam';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
}

/** A role like the agent monitor's: scoped to one cluster, with an ecs:cluster condition, plus grants on a table, a secret, a topic and a log group. */
function buildStack() {
  const stack = new Stack(new App(), 'Test');
  const cluster = new ecs.Cluster(stack, 'Cluster');
  const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const secret = new secretsmanager.Secret(stack, 'Secret');
  const topic = new sns.Topic(stack, 'Topic');
  const logGroup = new logs.LogGroup(stack, 'Logs');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['ecs:DescribeContainerInstances', 'ecs:UpdateContainerAgent'],
    resources: [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${cluster.clusterName}/*` })],
    conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
  }));
  table.grantReadWriteData(role);
  secret.grantRead(role);
  topic.grantPublish(role);
  logGroup.grantWrite(role);
  return { stack, cluster, table, secret, topic, logGroup, role };
}

describe('IamSimulator on a role built from L2 grants', () => {
  let built: ReturnType<typeof buildStack>;
  let sim: IamSimulator;
  let clusterArn: string;
  let instanceArn: string;

  beforeAll(async () => {
    built = buildStack();
    sim = await IamSimulator.forRole(built.stack, built.role);
    clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${logicalId(built.cluster)}`;
    instanceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${logicalId(built.cluster)}/0123456789abcdef`;
  });

  test('finds the role and resolves its ARN', () => {
    expect(sim.roleLogicalId).toBe(logicalId(built.role));
    expect(sim.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${logicalId(built.role)}`);
    expect(sim.globalContext['aws:PrincipalArn']).toBe(sim.roleArn);
    expect(sim.policies.map((p) => p.name)).toEqual([expect.stringMatching(/^RoleDefaultPolicy[0-9A-F]{8}$/)]);
  });

  test('resolves Ref and Fn::GetAtt to realistic ARNs', () => {
    const { stack, table, secret, topic, logGroup, cluster } = built;
    expect(sim.resolve(stack.resolve(table.tableArn))).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${logicalId(table)}`);
    expect(sim.resolve(stack.resolve(secret.secretArn))).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${logicalId(secret)}-[0-9a-f]{6}$`));
    expect(sim.resolve(stack.resolve(topic.topicArn))).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId(topic)}`);
    expect(sim.resolve(stack.resolve(logGroup.logGroupArn))).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logicalId(logGroup)}:*`);
    expect(sim.resolve(stack.resolve(cluster.clusterArn))).toBe(clusterArn);
  });

  test('allows what the policy allows, in the cluster, with the matching ecs:cluster condition', async () => {
    await expectAllowed(sim, [
      { action: 'ecs:DescribeContainerInstances', resource: instanceArn, context: { 'ecs:cluster': clusterArn } },
      { action: 'ecs:UpdateContainerAgent', resource: instanceArn, context: { 'ecs:cluster': clusterArn } },
    ]);
  });

  test('denies another cluster\'s ARN', async () => {
    const otherCluster = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`;
    await expectDenied(sim, [{
      action: 'ecs:DescribeContainerInstances',
      resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/other/0123456789abcdef`,
      context: { 'ecs:cluster': otherCluster },
    }]);
  });

  test('denies when the condition key does not match, and explains why', async () => {
    const request = {
      action: 'ecs:DescribeContainerInstances',
      resource: instanceArn,
      context: { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other` },
    };
    expect(await sim.isAllowed(request)).toBe(false);
    expect(await sim.explain(request)).toMatch(/ImplicitlyDenied[\s\S]*condition ArnEquals ecs:cluster/);
  });

  test('denies when the condition key is missing', async () => {
    expect(await sim.isAllowed({ action: 'ecs:DescribeContainerInstances', resource: instanceArn })).toBe(false);
  });

  test('denies an action the policy does not name', async () => {
    await expectDenied(sim, [{ action: 'ecs:ListContainerInstances', resource: clusterArn }]);
    expect(await sim.explain({ action: 'ecs:ListClusters' })).toMatch(/no identity statement names ecs:ListClusters/);
  });

  test('allows dynamodb:UpdateItem on the granted table and denies it on another table', async () => {
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${logicalId(built.table)}`;
    await expectAllowed(sim, [{ action: 'dynamodb:UpdateItem', resource: tableArn }]);
    await expectDenied(sim, [
      { action: 'dynamodb:UpdateItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Other` },
      { action: 'dynamodb:UpdateItem', resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/${logicalId(built.table)}` },
      { action: 'dynamodb:DeleteTable', resource: tableArn },
    ]);
  });

  test('allows reading the granted secret only', async () => {
    const secretArn = sim.resolve(built.stack.resolve(built.secret.secretArn)) as string;
    await expectAllowed(sim, [{ action: 'secretsmanager:GetSecretValue', resource: secretArn }]);
    await expectDenied(sim, [
      { action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other-AbCdEf` },
      { action: 'secretsmanager:PutSecretValue', resource: secretArn },
    ]);
  });

  test('allows publishing to the topic and writing to the log group', async () => {
    await expectAllowed(sim, [
      { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId(built.topic)}` },
      { action: 'logs:PutLogEvents', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logicalId(built.logGroup)}:log-stream:s1` },
    ]);
    await expectDenied(sim, [{ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:other` }]);
  });

  test('fails expectAllowed with a readable list of the requests that were denied', async () => {
    const other = { action: 'dynamodb:UpdateItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Other` };
    await expect(expectAllowed(sim, [
      { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${logicalId(built.table)}` },
      other,
    ])).rejects.toThrow(/1 of 2 request\(s\) for role Role\w+ were not allowed[\s\S]*dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:123456789012:table\/Other: ImplicitlyDenied/);
  });

  test('fails expectDenied listing the allowing statement', async () => {
    await expect(expectDenied(sim, [{ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId(built.topic)}` }]))
      .rejects.toThrow(/were allowed, expected denied[\s\S]*allowed by RoleDefaultPolicy\w+ statement/);
  });

  test('fails a request with a context key the action does not support, so a typo cannot pass', async () => {
    await expect(sim.isAllowed({ action: 'ecs:DescribeContainerInstances', resource: instanceArn, context: { 'ecs:clustr': clusterArn } }))
      .rejects.toThrow(/ecs:clustr do not apply to ecs:DescribeContainerInstances/);
  });

  test('fails a request the simulator rejects', async () => {
    await expect(sim.isAllowed({ action: 'ecs:NoSuchAction', resource: instanceArn })).rejects.toThrow(/iam-simulate rejected ecs:NoSuchAction/);
    await expect(sim.isAllowed({ action: 'ecs:DeregisterContainerInstance', resource: instanceArn }))
      .rejects.toThrow(/no.resource.types \(the resource ARN is of no resource type the action supports/);
  });

  test('fails expectAllowed given no requests', async () => {
    await expect(expectAllowed(sim, [])).rejects.toThrow(/no requests given/);
  });
});

describe('IamSimulator.forRole', () => {
  test('finds the role of a Lambda function, takes the stack\'s env, and includes AWSLambdaBasicExecutionRole', async () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    table.grantReadData(fn);

    const sim = await IamSimulator.forRole(stack, fn); // account and region come from the stack's env

    expect(sim.roleLogicalId).toBe(logicalId(fn.role as iam.Role));
    expect(sim.roleArn).toBe(`arn:aws:iam::111122223333:role/${logicalId(fn.role as iam.Role)}`);
    await expectAllowed(sim, [
      { action: 'logs:PutLogEvents', resource: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/x:log-stream:y' },
      { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:eu-west-1:111122223333:table/${logicalId(table)}` },
    ]);
    await expectDenied(sim, [{ action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:eu-west-1:111122223333:table/${logicalId(table)}` }]);
  });

  test('collects inline policies, managed policies attached either way, and AWS::IAM::RolePolicy', async () => {
    const stack = new Stack(new App(), 'Test');
    const byArn = new iam.ManagedPolicy(stack, 'ByArn', {
      statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:q`] })],
    });
    const role = new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        Inline: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [`arn:aws:sns:${REGION}:${ACCOUNT}:t`] })] }),
      },
      managedPolicies: [byArn],
    });
    const byRoles = new iam.ManagedPolicy(stack, 'ByRoles', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['sqs:ReceiveMessage'], resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:q`] })],
    });
    const rolePolicy = new iam.CfnRolePolicy(stack, 'RolePolicy', {
      roleName: role.roleName,
      policyName: 'rp',
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:DeleteMessage', Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` }] },
    });

    const sim = await IamSimulator.forRole(Template.fromStack(stack), logicalId(role));

    expect(sim.policies.map((p) => p.name).sort()).toEqual(
      [`${logicalId(role)}.Policies[Inline]`, logicalId(byArn), logicalId(byRoles), stack.getLogicalId(rolePolicy)].sort());
    await expectAllowed(sim, ['sns:Publish', 'sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'].map((action) => ({
      action,
      resource: action.startsWith('sns') ? `arn:aws:sns:${REGION}:${ACCOUNT}:t` : `arn:aws:sqs:${REGION}:${ACCOUNT}:q`,
    })));
    await expectDenied(sim, [{ action: 'sqs:PurgeQueue', resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` }]);
  });

  test('counts a managed policy attached both by ManagedPolicyArns and by its Roles once', async () => {
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] };
    const sim = await IamSimulator.forRole({
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: [{ Ref: 'Managed' }] } },
        Managed: { Type: 'AWS::IAM::ManagedPolicy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: document } },
        OtherRole: { Type: 'AWS::IAM::Role', Properties: {} },
        OtherPolicy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'OtherRole' }], PolicyName: 'o', PolicyDocument: document } },
      },
    }, 'Role');
    expect(sim.policies.map((p) => p.name)).toEqual(['Managed']);
  });

  test('fails for an AWS managed policy it has no document for, and uses one given', async () => {
    const stack = new Stack(new App(), 'Test');
    const role = new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonECS_FullAccess')],
    });
    const arn = 'arn:aws:iam::aws:policy/AmazonECS_FullAccess';

    await expect(IamSimulator.forRole(stack, role)).rejects.toThrow(/managed policy arn:aws:iam::aws:policy\/AmazonECS_FullAccess is not in the template/);

    const sim = await IamSimulator.forRole(stack, role, {
      managedPolicies: { [arn]: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }] } },
    });
    expect(await sim.isAllowed({ action: 'ecs:ListClusters' })).toBe(true);
  });

  test('applies the permissions boundary', async () => {
    const stack = new Stack(new App(), 'Test');
    const boundary = new iam.ManagedPolicy(stack, 'Boundary', {
      statements: [new iam.PolicyStatement({ actions: ['sns:*'], resources: ['*'] })],
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), permissionsBoundary: boundary });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish', 'sqs:SendMessage'], resources: ['*'] }));

    const sim = await IamSimulator.forRole(stack, role);

    await expectAllowed(sim, [{ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:t` }]);
    await expectDenied(sim, [{ action: 'sqs:SendMessage', resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` }]);
    expect(await sim.explain({ action: 'sqs:SendMessage', resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` })).toMatch(/permissions boundary/);
  });

  test('fails for a logical id that is not a role, listing the roles', async () => {
    const { stack, table } = buildStack();
    await expect(IamSimulator.forRole(stack, logicalId(table))).rejects.toThrow(/is a AWS::DynamoDB::Table, not an AWS::IAM::Role; roles in the template: Role\w+/);
  });

  test('fails for an imported role', async () => {
    const stack = new Stack(new App(), 'Test');
    const role = iam.Role.fromRoleArn(stack, 'Imported', `arn:aws:iam::${ACCOUNT}:role/x`);
    await expect(IamSimulator.forRole(stack, role)).rejects.toThrow(/Test\/Imported is not a role defined in a stack/);
  });

  test('fails for a role of another stack', async () => {
    const app = new App();
    const other = buildStack();
    await expect(IamSimulator.forRole(new Stack(app, 'Empty'), other.role)).rejects.toThrow(/is in stack Test, not in Empty/);
  });
});

describe('intrinsics', () => {
  /** A role whose policy uses `resource` as its only Resource. */
  function templateWithResource(resource: unknown, extra: Record<string, unknown> = {}): CfnTemplate {
    return {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
        Policy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'p',
            Roles: [{ Ref: 'Role' }],
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: resource }] },
          },
        },
        ...extra,
      },
    };
  }

  test('resolves Fn::Sub with pseudo parameters, attributes and escapes', () => {
    const resolver = new IntrinsicResolver({
      Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alerts' } }, Queue: { Type: 'AWS::SQS::Queue' } },
    }, { account: '111122223333', region: 'eu-west-1', partition: 'aws-cn' });

    expect(resolver.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Topic.TopicName}-${!Literal}' }, 't'))
      .toBe('arn:aws-cn:sns:eu-west-1:111122223333:alerts-${Literal}');
    expect(resolver.resolve({ Ref: 'Topic' }, 't')).toBe('arn:aws-cn:sns:eu-west-1:111122223333:alerts');
    expect(() => resolver.resolve({ 'Fn::Sub': '${Name}' }, 'here')).toThrow(/Ref: Name is neither a resource nor a parameter of the template \(at here/);
  });

  test('resolves a REST API to a generated API id, as in an execute-api ARN', () => {
    const resolver = new IntrinsicResolver({ Resources: { Api: { Type: 'AWS::ApiGateway::RestApi' } } });

    const apiId = resolver.resolve({ Ref: 'Api' }, 't');
    expect(apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(resolver.resolve({ 'Fn::GetAtt': ['Api', 'RestApiId'] }, 't')).toBe(apiId);
    expect(resolver.resolve({ 'Fn::Join': ['', ['arn:aws:execute-api:us-east-1:123456789012:', { Ref: 'Api' }, '/v1/GET/*']] }, 't'))
      .toBe(`arn:aws:execute-api:us-east-1:123456789012:${apiId}/v1/GET/*`);
  });

  test('resolves Fn::Sub variables, Fn::Select of Fn::Split, and drops AWS::NoValue', () => {
    const resolver = new IntrinsicResolver({ Resources: { Queue: { Type: 'AWS::SQS::Queue' } } });

    expect(resolver.resolve({ 'Fn::Sub': ['${Q}/${Name}', { Name: 'x', Q: { Ref: 'Queue' } }] }, 't'))
      .toBe('https://sqs.us-east-1.amazonaws.com/123456789012/Queue/x');
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue', 'Arn'] }] }] }, 't')).toBe('aws');
    expect(resolver.resolve({ 'Fn::Select': ['5', { 'Fn::Split': [':', { 'Fn::GetAtt': 'Queue.Arn' }] }] }, 't')).toBe('Queue');
    expect(resolver.resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::b']] }, 't')).toBe('arn:aws:s3:::b');
    expect(resolver.resolve(['a', { Ref: 'AWS::NoValue' }, 'b'], 't')).toEqual(['a', 'b']);
  });

  test('resolves imported values given by the caller, and fails naming the export otherwise', async () => {
    const template = templateWithResource({ 'Fn::ImportValue': 'Shared:TopicArn' });

    await expect(IamSimulator.forRole(template, 'Role')).rejects.toThrow(/Fn::ImportValue "Shared:TopicArn" has no value; pass it in importedValues/);

    const sim = await IamSimulator.forRole(template, 'Role', { importedValues: { 'Shared:TopicArn': `arn:aws:sns:${REGION}:${ACCOUNT}:shared` } });
    await expectAllowed(sim, [{ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:shared` }]);
    await expectDenied(sim, [{ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:other` }]);
  });

  test('fails naming an unsupported intrinsic and where it is', async () => {
    const template = templateWithResource({ 'Fn::If': ['IsProd', 'arn:aws:sns:us-east-1:123456789012:a', 'arn:aws:sns:us-east-1:123456789012:b'] });
    await expect(IamSimulator.forRole(template, 'Role'))
      .rejects.toThrow(/Fn::If is not supported by the IAM test helper \(at Resources\.Policy\.Properties\.PolicyDocument\.Statement\[0\]\.Resource\.Fn::If\)/);
  });

  test('fails naming an attribute of a type it does not model, and uses resourceValues when given', async () => {
    const template = templateWithResource({ 'Fn::GetAtt': ['Custom', 'TopicArn'] }, { Custom: { Type: 'Custom::Thing', Properties: {} } });

    await expect(IamSimulator.forRole(template, 'Role'))
      .rejects.toThrow(/Fn::GetAtt Custom.TopicArn: resource type Custom::Thing of Custom is not modelled; pass its values in resourceValues.Custom/);

    const sim = await IamSimulator.forRole(template, 'Role', { resourceValues: { Custom: { TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:custom` } } });
    expect(await sim.isAllowed({ action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:custom` })).toBe(true);
  });

  test('fails for a reference to a resource that is not in the template', async () => {
    await expect(IamSimulator.forRole(templateWithResource({ Ref: 'Missing' }), 'Role'))
      .rejects.toThrow(/Ref: Missing is neither a resource nor a parameter of the template/);
  });

  test('uses parameter defaults and values, and fails for a parameter without either', async () => {
    const template = { ...templateWithResource({ 'Fn::Sub': 'arn:aws:sns:us-east-1:123456789012:${TopicName}' }), Parameters: { TopicName: { Type: 'String' } } };

    await expect(IamSimulator.forRole(template, 'Role')).rejects.toThrow(/Ref TopicName: parameter has no Default; pass its value in parameters/);

    const sim = await IamSimulator.forRole(template, 'Role', { parameters: { TopicName: 'given' } });
    expect(await sim.isAllowed({ action: 'sns:Publish', resource: 'arn:aws:sns:us-east-1:123456789012:given' })).toBe(true);
  });

  test('gives a CfnResource of a modelled type the name it sets', () => {
    const stack = new Stack(new App(), 'Test');
    const cfn = new CfnResource(stack, 'Named', { type: 'AWS::DynamoDB::Table', properties: { TableName: 'named-table' } });
    const resolver = new IntrinsicResolver(Template.fromStack(stack).toJSON());
    expect(resolver.getAtt(stack.getLogicalId(cfn), 'Arn')).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/named-table`);
  });
});

import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EcsTaskRunner, EcsTaskRunnerProps, RunOn, SuccessCriteria, TaskLaunchTarget } from '../../src';
import { estimatePolicyLength } from '../../src/ecs-task-runner/policy-size';
import { IntrinsicResolver } from '../support/iam';

const ENV = { account: '123456789012', region: 'us-east-1' };

function setup() {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
    publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
  });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const logGroup = new logs.LogGroup(stack, 'AppLogs', { logGroupName: '/ecs/migrate', retention: logs.RetentionDays.ONE_MONTH });
  const fargate = new ecs.FargateTaskDefinition(stack, 'Migrations', { family: 'migrate' });
  fargate.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42'), logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'migrate' }) });
  fargate.addContainer('envoy', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/appmesh/aws-appmesh-envoy:v1'), essential: false, memoryLimitMiB: 128 });
  const ec2Only = new ecs.Ec2TaskDefinition(stack, 'SeedTask', { family: 'seed' });
  ec2Only.addContainer('seed', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/seed:1'), memoryLimitMiB: 256 });
  return { stack, vpc, cluster, fargate, ec2Only, logGroup };
}

type Setup = ReturnType<typeof setup>;

function runner(s: Setup, props: Partial<EcsTaskRunnerProps> = {}, id = 'Migrate') {
  return new EcsTaskRunner(s.stack, id, { cluster: s.cluster, taskDefinition: s.fargate, ...props });
}

function statementsOf(template: Template, policyIdPattern: RegExp): any[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => policyIdPattern.test(id))
    .flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement);
}

describe('EcsTaskRunner', () => {
  test('one provider per stack: every runner uses the same functions and waiter', () => {
    const s = setup();
    const a = runner(s);
    const b = runner(s, { taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.ec2() }, 'Seed');
    const template = Template.fromStack(s.stack);

    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // The runner's onEvent and isComplete, and the framework's onEvent, isComplete and onTimeout.
    template.resourceCountIs('AWS::Lambda::Function', 5);
    const resources = Object.values<any>(template.findResources('Custom::EcsTaskRunner'));
    expect(resources).toHaveLength(2);
    expect(resources[0].Properties.ServiceToken).toEqual(resources[1].Properties.ServiceToken);
    expect(a.onEventHandler).toBe(b.onEventHandler);
    expect(a.isCompleteHandler).toBe(b.isCompleteHandler);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.onEvent',
      MemorySize: 256,
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'ecs-task-runner' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete', Timeout: 60 });
  });

  test('CloudFormation waits `timeout` (ServiceTimeout); the tasks get that less a poll and a minute; the waiter polls every pollInterval for at most an hour', () => {
    const s = setup();
    runner(s, { timeout: Duration.minutes(30), pollInterval: Duration.seconds(20) });
    const template = Template.fromStack(s.stack).toJSON();

    const resource = Object.values<any>(template.Resources).find((r) => r.Type === 'Custom::EcsTaskRunner');
    expect(resource.Properties).toMatchObject({ ServiceTimeout: '1800', TimeoutSeconds: 1800, RunSeconds: 1800 - 20 - 60 });
    const machine = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":20,\\"MaxAttempts\\":180,\\"BackoffRate\\":1');
    // The waiter outlasts every runner's deadline by a poll, so it always polls once after it (and then the run ends).
    expect(20 * 180).toBeGreaterThanOrEqual(resource.Properties.RunSeconds + 20);
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });

  test('at its defaults: 10 minutes, 15-second polls, both events, the essential containers, Fargate in the cluster\'s private subnets', () => {
    const s = setup();
    const r = runner(s);

    Template.fromStack(s.stack).hasResourceProperties('Custom::EcsTaskRunner', {
      ServiceTimeout: '600',
      Cluster: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:cluster/prod']] },
      TaskDefinition: { Ref: Match.stringLikeRegexp('^Migrations') },
      Launch: {
        Type: 'FARGATE',
        Subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
        SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^MigrateSecurityGroup'), 'GroupId'] }],
        AssignPublicIp: 'DISABLED',
      },
      Count: 1,
      ContainerOverrides: [],
      RunOn: ['CREATE', 'UPDATE'],
      RunOnRollback: false,
      TimeoutSeconds: 600,
      RunSeconds: 525,
      SuccessCriteria: { Type: 'ESSENTIAL_CONTAINERS', Containers: [] },
      StopTasksOnDelete: true,
    });
    expect(r.securityGroups).toHaveLength(1);
    Template.fromStack(s.stack).hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0a1b2c3d4e5f60718', SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }],
    });
  });

  test('passes every setting as the resource\'s properties', () => {
    const s = setup();
    runner(s, {
      containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'], environment: { STEP: '1' } }],
      count: 3,
      launchTarget: TaskLaunchTarget.fargate({
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true, platformVersion: ecs.FargatePlatformVersion.VERSION1_4,
      }),
      runOn: [RunOn.UPDATE],
      runOnRollback: true,
      updateCriteria: [{ containerName: 'app', environmentKeys: ['DB_HOST'] }],
      triggers: { schema: '42' },
      successCriteria: SuccessCriteria.containers(['app', 'envoy']),
      stopTasksOnDelete: false,
      propagateTags: true,
      enableExecuteCommand: true,
    });

    Template.fromStack(s.stack).hasResourceProperties('Custom::EcsTaskRunner', {
      Launch: Match.objectLike({ Type: 'FARGATE', PlatformVersion: '1.4.0', Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], AssignPublicIp: 'ENABLED' }),
      Count: 3,
      ContainerOverrides: [{ Name: 'app', Command: ['npm', 'run', 'migrate'], Environment: [{ Name: 'STEP', Value: '1' }] }],
      RunOn: ['UPDATE'],
      RunOnRollback: true,
      UpdateCriteria: [{ ContainerName: 'app', EnvironmentKeys: ['DB_HOST'] }],
      Triggers: { schema: '42' },
      SuccessCriteria: { Type: 'CONTAINERS', Containers: ['app', 'envoy'] },
      StopTasksOnDelete: false,
      PropagateTags: true,
      EnableExecuteCommand: true,
    });
  });

  test('launch targets: EC2 with placement, capacity providers, container instances; EC2 is the default for an EC2-only task definition', () => {
    const s = setup();
    runner(s, {
      taskDefinition: s.ec2Only,
      launchTarget: TaskLaunchTarget.ec2({
        placementConstraints: [ecs.PlacementConstraint.memberOf('attribute:ecs.instance-type =~ t3.*')],
        placementStrategies: [ecs.PlacementStrategy.packedByMemory()],
      }),
    }, 'Ec2');
    runner(s, { launchTarget: TaskLaunchTarget.capacityProviders([{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }]) }, 'Spot');
    runner(s, { taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.containerInstances(['arn:aws:ecs:us-east-1:123456789012:container-instance/prod/abc']) }, 'OnHost');
    runner(s, { taskDefinition: s.ec2Only }, 'ByDefault');
    const launches = Object.entries<any>(Template.fromStack(s.stack).findResources('Custom::EcsTaskRunner'))
      .map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), r.Properties.Launch]);

    expect(Object.fromEntries(launches)).toEqual({
      Ec2: {
        Type: 'EC2',
        PlacementConstraints: [{ Type: 'memberOf', Expression: 'attribute:ecs.instance-type =~ t3.*' }],
        PlacementStrategy: [{ Type: 'binpack', Field: 'MEMORY' }],
      },
      Spot: expect.objectContaining({ Type: 'CAPACITY_PROVIDERS', CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Base: 0, Weight: 1 }], AssignPublicIp: 'DISABLED' }),
      OnHost: { Type: 'CONTAINER_INSTANCES', ContainerInstances: ['arn:aws:ecs:us-east-1:123456789012:container-instance/prod/abc'] },
      ByDefault: { Type: 'EC2' },
    });
  });

  test('connections: the tasks\' security groups, for an awsvpc task definition only', () => {
    const s = setup();
    const db = new ec2.SecurityGroup(s.stack, 'Db', { vpc: s.vpc });
    const migrate = runner(s);
    const seed = runner(s, { taskDefinition: s.ec2Only }, 'Seed');

    db.connections.allowFrom(migrate, ec2.Port.tcp(5432));

    Template.fromStack(s.stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MigrateSecurityGroup'), 'GroupId'] },
    });
    expect(() => seed.connections).toThrow(/its tasks have no security groups of their own/);
    // The runner's own security group already allows all outbound traffic: connecting it adds no egress rule and
    // leaves no warning in the user's synth output.
    Annotations.fromStack(s.stack).hasNoWarning('/Stack/Migrate/SecurityGroup', Match.anyValue());
    Template.fromStack(s.stack).resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  test('connecting security groups that the user gave warns as CDK does: the runner acknowledges only its own group', () => {
    const s = setup();
    const db = new ec2.SecurityGroup(s.stack, 'Db', { vpc: s.vpc });
    const mine = new ec2.SecurityGroup(s.stack, 'Mine', { vpc: s.vpc });
    const migrate = runner(s, { launchTarget: TaskLaunchTarget.fargate({ securityGroups: [mine] }) });

    db.connections.allowFrom(migrate, ec2.Port.tcp(5432));

    Annotations.fromStack(s.stack).hasWarning('/Stack/Mine', Match.stringLikeRegexp('Ignoring Egress rule'));
  });

  test('the custom resource waits for the policies that let the functions act for it', () => {
    const s = setup();
    runner(s);
    const resource = Object.values<any>(Template.fromStack(s.stack).findResources('Custom::EcsTaskRunner'))[0];

    expect(resource.DependsOn.sort()).toEqual([expect.stringMatching(/^MigrateCheckPolicy/), expect.stringMatching(/^MigrateStartPolicy/)]);
  });

  test('IAM: start only the family in the cluster, pass only its roles, read only its log groups; StartTask for container instances', () => {
    const s = setup();
    runner(s);
    runner(s, { taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.containerInstances(['abc']), runOnRollback: true }, 'Seed');
    const template = Template.fromStack(s.stack);
    const start = statementsOf(template, /^MigrateStartPolicy/);
    const check = statementsOf(template, /^MigrateCheckPolicy/);
    const seed = statementsOf(template, /^SeedStartPolicy/);
    const cluster = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:cluster/prod']] };

    expect(start.find((x) => x.Sid === 'RunTaskOfTheFamilyInTheCluster')).toEqual({
      Sid: 'RunTaskOfTheFamilyInTheCluster',
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:task-definition/migrate:*']] },
      Condition: { ArnEquals: { 'ecs:cluster': cluster } },
    });
    expect(start.find((x) => x.Sid === 'PassTheTaskRolesToEcs')).toMatchObject({
      Action: 'iam:PassRole',
      Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('TaskRole'), 'Arn'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('ExecutionRole'), 'Arn'] }].map(() => expect.anything()),
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(start.find((x) => x.Sid === 'TellARollbackFromAnUpdate')).toMatchObject({ Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } });
    expect(check.map((x) => x.Action)).toEqual([['ecs:DescribeTasks', 'ecs:StopTask'], 'logs:GetLogEvents']);
    expect(check[1].Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:', { Ref: expect.stringMatching(/^AppLogs/) }, ':log-stream:*']] });
    // DescribeStacks whatever the props (here runOnRollback): a rollback brings the properties of an earlier synth.
    expect(seed.map((x) => x.Sid)).toEqual([
      'StartTaskOfTheFamilyInTheCluster', 'TagTheTasksItStarts', 'FindStopAndDescribeItsTasks', 'ListItsTasks', 'ReadTaskDefinitions', 'PassTheTaskRolesToEcs',
      'TellARollbackFromAnUpdate',
    ]);
    expect(seed.find((x) => x.Sid === 'TagTheTasksItStarts').Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'StartTask' } });
  });

  test('includeLogLinesInReason: false tells the handler so and grants no log reads; the default writes nothing new', () => {
    // Prepare
    const s = setup();
    runner(s, { includeLogLinesInReason: false });
    runner(s, {}, 'Backfill');

    // Act
    const template = Template.fromStack(s.stack);

    // Assess
    const resources = template.findResources('Custom::EcsTaskRunner');
    expect(Object.entries(resources).find(([id]) => id.startsWith('Migrate'))![1].Properties).toMatchObject({ IncludeLogLinesInReason: false });
    expect(Object.entries(resources).find(([id]) => id.startsWith('Backfill'))![1].Properties).not.toHaveProperty('IncludeLogLinesInReason');
    expect(statementsOf(template, /^MigrateCheckPolicy/).map((x) => x.Action)).toEqual([['ecs:DescribeTasks', 'ecs:StopTask']]);
    expect(statementsOf(template, /^BackfillCheckPolicy/).map((x) => x.Action)).toEqual([['ecs:DescribeTasks', 'ecs:StopTask'], 'logs:GetLogEvents']);
  });

  test('an imported task definition: its family from the ARN, and a warning when its roles are unknown', () => {
    const s = setup();
    const imported = ecs.TaskDefinition.fromTaskDefinitionArn(s.stack, 'Imported', 'arn:aws:ecs:us-east-1:123456789012:task-definition/billing-migrate:12');
    const r = runner(s, { taskDefinition: imported, launchTarget: TaskLaunchTarget.ec2() });
    const start = statementsOf(Template.fromStack(s.stack), /^MigrateStartPolicy/);

    expect(start[0].Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:task-definition/billing-migrate:*']] });
    expect(start.map((x) => x.Sid)).not.toContain('PassTheTaskRolesToEcs');
    Annotations.fromStack(s.stack).hasWarning(`/${r.node.path}`, Match.stringLikeRegexp('imported without its task role'));
  });

  test('warns that count does not apply to container instances', () => {
    const s = setup();
    const r = runner(s, { taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.containerInstances(['a', 'b']), count: 2 });

    Annotations.fromStack(s.stack).hasWarning(`/${r.node.path}`, Match.stringLikeRegexp('count is 2, but TaskLaunchTarget.containerInstances'));
  });

  test('the hardening props reach the framework\'s functions and waiter: VPC, log groups, tracing', () => {
    const s = setup();
    runner(s, { vpc: s.vpc, logRetention: logs.RetentionDays.ONE_YEAR, tracing: lambda.Tracing.ACTIVE });
    const template = Template.fromStack(s.stack);

    for (const fn of Object.values<any>(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties).toMatchObject({ VpcConfig: { SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'] }, TracingConfig: { Mode: 'Active' } });
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
    template.resourceCountIs('AWS::Logs::LogGroup', 5); // the user's, and the runner's four
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });
});

describe('validation', () => {
  const fails = (props: (s: Setup) => Partial<EcsTaskRunnerProps>, message: RegExp) => {
    const s = setup();
    expect(() => runner(s, props(s))).toThrow(message);
  };

  test('fails on a count outside 1 to 10', () => {
    fails(() => ({ count: 0 }), /count is 0; give a whole number from 1 to 10/);
    fails(() => ({ count: 11 }), /count is 11/);
    fails(() => ({ count: 1.5 }), /count is 1.5/);
  });

  test('fails on a timeout over an hour, one too short for a poll, a minute to report and a minute to run, and a bad pollInterval', () => {
    fails(() => ({ timeout: Duration.minutes(61) }), /timeout is 1 hour 1 minute; give whole seconds up to 1 hour, CloudFormation's limit for a custom resource/);
    fails(() => ({ timeout: Duration.minutes(2) }), /timeout is 2 minutes; give at least 2 minutes 15 seconds/);
    fails(() => ({ pollInterval: Duration.seconds(2) }), /pollInterval is 2 seconds; give whole seconds from 5 seconds to 5 minutes/);
    fails(() => ({ pollInterval: Duration.millis(7500) }), /pollInterval is 7 seconds 500 millis; give whole seconds/);
  });

  test('fails on empty or pointless overrides and on containers the task definition does not have', () => {
    fails(() => ({ containerOverrides: [] }), /containerOverrides is empty/);
    fails(() => ({ containerOverrides: [{ containerName: 'ap', command: ['x'] }] }), /containerOverrides\[0\].containerName is "ap", which is not a container of the task definition; give one of app, envoy/);
    fails(() => ({ containerOverrides: [{ containerName: 'app' }] }), /containerOverrides\[0\] \(app\) overrides nothing; give command or environment/);
    fails(() => ({ containerOverrides: [{ containerName: 'app', command: [] }] }), /containerOverrides\[0\].command is empty/);
    fails(() => ({ containerOverrides: [{ containerName: 'app', command: ['a'] }, { containerName: 'app', command: ['b'] }] }), /"app" is overridden twice/);
    fails(() => ({ containerOverrides: [{ containerName: 'app', environment: { 'A=B': 'c' } }] }), /has the variable name "A=B"/);
    fails(() => ({ containerOverrides: [{ containerName: 'app', command: ['x'.repeat(9000)] }] }), /ECS allows 8192: move the long values into the task definition/);
  });

  test('fails on runOn, updateCriteria, triggers and successCriteria that cannot work', () => {
    fails(() => ({ runOn: [] }), /runOn is empty/);
    fails(() => ({ runOn: [RunOn.CREATE, RunOn.CREATE] }), /runOn names the same event twice/);
    fails(() => ({ runOn: [RunOn.CREATE], updateCriteria: [{ containerName: 'app', environmentKeys: ['A'] }] }), /updateCriteria is set, but runOn does not include RunOn.UPDATE/);
    fails(() => ({ updateCriteria: [{ containerName: 'nope', environmentKeys: [] }] }),
      /updateCriteria\[0\].containerName is "nope", which is not a container[\s\S]*updateCriteria\[0\].environmentKeys is empty/);
    fails(() => ({ triggers: { '': 'x' } }), /triggers has an empty key/);
    fails(() => ({ successCriteria: SuccessCriteria.containers([]) }), /successCriteria is SuccessCriteria.containers\(\[\]\)/);
    fails(() => ({ successCriteria: SuccessCriteria.containers(['sidecar']) }), /successCriteria.containers\[0\] is "sidecar"/);
  });

  test('fails on a launch target that does not fit the task definition or the cluster', () => {
    fails((s) => ({ taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.fargate() }), /the task definition is not Fargate-compatible/);
    fails(() => ({ launchTarget: TaskLaunchTarget.ec2() }), /TaskLaunchTarget.ec2\(\), but the task definition is not EC2-compatible/);
    fails((s) => ({ taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.containerInstances([]) }), /containerInstances\(\) with 0 instance\(s\); give 1 to 10/);
    fails((s) => ({ taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.containerInstances(Array(11).fill('ci')) }), /with 11 instance\(s\)/);
    fails(() => ({ launchTarget: TaskLaunchTarget.capacityProviders([]) }), /capacityProviders\(\[\]\); give at least one capacity provider/);
    // Not in FargateLaunchTargetOptions, but a JavaScript or Python caller can pass it.
    const withPlacement: object = { placementStrategies: [ecs.PlacementStrategy.randomly()] };
    fails(() => ({ launchTarget: TaskLaunchTarget.fargate(withPlacement) }), /do not apply to Fargate/);
    const privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    fails((s) => ({ taskDefinition: s.ec2Only, launchTarget: TaskLaunchTarget.ec2({ vpcSubnets: privateSubnets }) }),
      /vpcSubnets, securityGroups and assignPublicIp apply only to a task definition with the awsvpc network mode/);
    fails((s) => ({ cluster: ecs.Cluster.fromClusterArn(s.stack, 'ByArn', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod') }),
      /the cluster was imported without a VPC; give vpc in the launch target options/);
  });

  test('fails when a runner of the stack polls at another interval or has other hardening props than the first', () => {
    const s = setup();
    runner(s);
    expect(() => runner(s, { pollInterval: Duration.seconds(30) }, 'Other'))
      .toThrow(/pollInterval is 30 seconds, but the EcsTaskRunners of this stack share one provider \(Stack\/CdkEcsOpsEcsTaskRunnerProvider\), which polls every 15 seconds/);
    expect(() => runner(s, { tracing: lambda.Tracing.ACTIVE, logRetention: logs.RetentionDays.ONE_YEAR }, 'Third'))
      .toThrow(/logRetention differs from the first EcsTaskRunner of this stack[\s\S]*tracing differs/);
    expect(() => runner(s, { pollInterval: Duration.seconds(15), tracing: lambda.Tracing.DISABLED }, 'Same')).not.toThrow();
  });

  test('fails at synth when the runners of a stack would outgrow IAM\'s quota on a role\'s inline policies', () => {
    // Prepare: six runners fit the onEvent role's 10,240 characters (about 1,700 each, counted at the longest ARNs); nine do not.
    const withRunners = (n: number) => {
      const s = setup();
      for (let i = 0; i < n; i++) runner(s, {}, `Migrate${i}`);
      return s.stack;
    };

    // Act / Assess
    expect(() => Template.fromStack(withRunners(5))).not.toThrow();
    expect(() => Template.fromStack(withRunners(9))).toThrow(new RegExp(
      'the 9 EcsTaskRunners of this stack give the role Stack/CdkEcsOpsEcsTaskRunnerProvider/OnEventServiceRole about \\d+ characters of inline '
      + 'policy \\(counted at the longest their ARNs can be\\); IAM allows a role 10240 in all, so the deployment would fail\\. '
      + 'Put some of the runners in another stack'));
  });

  test('counts a role\'s inline policies at least as long as IAM will, and not much longer', () => {
    const s = setup();
    for (let i = 0; i < 3; i++) runner(s, {}, `Migrate${i}`);
    const role = s.stack.node.findAll().find((c): c is iam.Role => c instanceof iam.Role && c.node.path.includes('Provider/OnEvent'))!;
    const policies = s.stack.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy && c.node.path.includes('Migrate'));
    const onEventPolicies = policies.filter((p) => p.node.id === 'StartPolicy');
    const template = Template.fromStack(s.stack).toJSON();
    const resolver = new IntrinsicResolver(template, { ...ENV, partition: 'aws' });

    const estimate = estimatePolicyLength(s.stack, onEventPolicies.map((p) => p.document));
    const deployed = onEventPolicies
      .map((p) => JSON.stringify(resolver.resolve(s.stack.resolve(p.document.toJSON()), p.node.path)).replace(/\s/g, '').length)
      .reduce((a, b) => a + b, 0);

    expect(onEventPolicies).toHaveLength(3);
    expect(role).toBeDefined();
    expect(estimate).toBeGreaterThanOrEqual(deployed);
    expect(estimate).toBeLessThan(deployed * 1.2);
  });

  test('fails listing every mistake at once', () => {
    fails(() => ({ count: 0, timeout: Duration.hours(2), containerOverrides: [], runOn: [] }),
      /Invalid EcsTaskRunner props:\n- count is 0[\s\S]*\n- timeout is 2 hours[\s\S]*\n- containerOverrides is empty[\s\S]*\n- runOn is empty/);
  });

  test('accepts a task definition imported with its roles and network mode', () => {
    const s = setup();
    const imported = ecs.TaskDefinition.fromTaskDefinitionAttributes(s.stack, 'Imported', {
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/billing-migrate:12',
      compatibility: ecs.Compatibility.FARGATE,
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole: iam.Role.fromRoleArn(s.stack, 'TaskRole', 'arn:aws:iam::123456789012:role/billing-task'),
    });

    runner(s, { taskDefinition: imported });

    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('imported without its task role'));
    Template.fromStack(s.stack).hasResourceProperties('Custom::EcsTaskRunner', { Launch: Match.objectLike({ Type: 'FARGATE', AssignPublicIp: 'DISABLED' }) });
  });
});

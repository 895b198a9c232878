/**
 * Where an EcsTaskRunner's tasks run, as synth decides and checks it: the cluster's default capacity provider
 * strategy, the network a Fargate task needs to start (a route out, or the VPC endpoints) for a VPC of the app and an
 * imported one, the functions' security groups kept apart from the tasks' side, and the results as attributes.
 */
import { App, CfnElement, CfnOutput, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsTaskRunner, EcsTaskRunnerProps, TaskLaunchTarget } from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };
const PRIVATE_IDS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'];
const PUBLIC_IDS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'];
const ISOLATED_IDS = ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'];

function stack(context: Record<string, unknown> = {}): Stack {
  return new Stack(new App({ context }), 'Stack', { env: ENV });
}

/** A Fargate task definition of the app, logging with awslogs. */
function fargateTask(scope: Stack, options: { secret?: secretsmanager.ISecret } = {}): ecs.FargateTaskDefinition {
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Migrations', { family: 'migrate' });
  taskDefinition.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com/app:42'),
    logging: ecs.LogDrivers.awsLogs({ logGroup: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }), streamPrefix: 'migrate' }),
    ...(options.secret ? { secrets: { DB_PASSWORD: ecs.Secret.fromSecretsManager(options.secret) } } : {}),
  });
  return taskDefinition;
}

function runnerIn(scope: Stack, vpc: ec2.IVpc, props: Partial<EcsTaskRunnerProps> = {}, taskDefinition?: ecs.TaskDefinition): EcsTaskRunner {
  const cluster = ecs.Cluster.fromClusterAttributes(scope, 'Cluster', { clusterName: 'prod', vpc });
  return new EcsTaskRunner(scope, 'Migrate', { cluster, taskDefinition: taskDefinition ?? fargateTask(scope), ...props });
}

const synth = (s: Stack) => Template.fromStack(s);
const warnings = (s: Stack, id: string) => Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp(`\\[ack: cdk-ecs-ops/EcsTaskRunner:${id}\\]`));
const launchOf = (s: Stack) => Object.values<any>(synth(s).findResources('Custom::EcsTaskRunner'))[0].Properties.Launch;

describe('capacity providers by default', () => {
  function clusterWithStrategy(s: Stack, strategy: 'asg' | 'fargate' | 'none') {
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(s, 'Cluster', { vpc, enableFargateCapacityProviders: true });
    const group = new autoscaling.AutoScalingGroup(s, 'Group', {
      vpc, instanceType: new ec2.InstanceType('m7g.large'), machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM), minCapacity: 0, maxCapacity: 4,
    });
    const provider = new ecs.AsgCapacityProvider(s, 'Provider', { autoScalingGroup: group, capacityProviderName: 'scale-to-zero' });
    cluster.addAsgCapacityProvider(provider);
    if (strategy === 'asg') cluster.addDefaultCapacityProviderStrategy([{ capacityProvider: provider.capacityProviderName, weight: 1 }]);
    if (strategy === 'fargate') cluster.addDefaultCapacityProviderStrategy([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    return { vpc, cluster, provider };
  }

  function ec2Task(s: Stack, networkMode = ecs.NetworkMode.BRIDGE, id = 'SeedTask') {
    const taskDefinition = new ecs.Ec2TaskDefinition(s, id, { family: 'seed', networkMode });
    taskDefinition.addContainer('seed', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/seed:1'), memoryLimitMiB: 256 });
    return taskDefinition;
  }

  test('an EC2 task definition in a cluster of the app with a default strategy uses it: no EC2 launch type', () => {
    const s = stack();
    const { cluster } = clusterWithStrategy(s, 'asg');
    new EcsTaskRunner(s, 'Seed', { cluster, taskDefinition: ec2Task(s) });

    expect(launchOf(s)).toEqual({ Type: 'CLUSTER_DEFAULT' });
  });

  test('a Fargate task definition with a Fargate default strategy: the cluster\'s strategy, in the private subnets without a public IP', () => {
    const s = stack();
    const { cluster } = clusterWithStrategy(s, 'fargate');
    new EcsTaskRunner(s, 'Migrate', { cluster, taskDefinition: fargateTask(s) });

    expect(launchOf(s)).toMatchObject({ Type: 'CLUSTER_DEFAULT', Subnets: [expect.anything(), expect.anything()], AssignPublicIp: 'DISABLED' });
  });

  test('without a default strategy the defaults are as before; an imported cluster\'s strategy is given with clusterDefault()', () => {
    const s = stack();
    const { cluster } = clusterWithStrategy(s, 'none');
    new EcsTaskRunner(s, 'Seed', { cluster, taskDefinition: ec2Task(s) });
    const imported = ecs.Cluster.fromClusterAttributes(s, 'Imported', { clusterName: 'batch', vpc: cluster.vpc });
    new EcsTaskRunner(s, 'Batch', { cluster: imported, taskDefinition: ec2Task(s, ecs.NetworkMode.AWS_VPC, 'BatchTask'), launchTarget: TaskLaunchTarget.clusterDefault() });

    const [seed, batch] = Object.values<any>(synth(s).findResources('Custom::EcsTaskRunner')).map((r) => r.Properties.Launch);
    expect(seed).toEqual({ Type: 'EC2' });
    // The strategy of an imported cluster is not known: no public IP setting unless one is given.
    expect(batch).toEqual({ Type: 'CLUSTER_DEFAULT', Subnets: expect.any(Array), SecurityGroups: [expect.anything()] });
  });

  test('fails when the cluster gets its default strategy after the runner chose another launch target', () => {
    const s = stack();
    const { cluster, provider } = clusterWithStrategy(s, 'none');
    new EcsTaskRunner(s, 'Seed', { cluster, taskDefinition: ec2Task(s) });
    cluster.addDefaultCapacityProviderStrategy([{ capacityProvider: provider.capacityProviderName, weight: 1 }]);

    expect(() => synth(s)).toThrow(/launchTarget is not given, and the cluster Stack\/Cluster got its default capacity provider strategy after this runner was created, so the runner chose TaskLaunchTarget\.ec2\(\), which bypasses it: create the runner after cluster\.addDefaultCapacityProviderStrategy\(\), or give launchTarget: TaskLaunchTarget\.clusterDefault\(\)/);
  });

  test('fails on a default strategy that cannot run the task definition, and on clusterDefault() for a cluster without one', () => {
    const fargateOnly = stack();
    const withFargate = clusterWithStrategy(fargateOnly, 'fargate');
    expect(() => new EcsTaskRunner(fargateOnly, 'Seed', { cluster: withFargate.cluster, taskDefinition: ec2Task(fargateOnly) }))
      .toThrow(/launchTarget is TaskLaunchTarget\.clusterDefault\(\), and the cluster's default strategy \(\[FARGATE_SPOT\]\) is Fargate's, but the task definition is not Fargate-compatible/);

    const asgOnly = stack();
    const withAsg = clusterWithStrategy(asgOnly, 'asg');
    const fargate = new ecs.FargateTaskDefinition(asgOnly, 'Fargate');
    fargate.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:1') });
    expect(() => new EcsTaskRunner(asgOnly, 'Migrate', { cluster: withAsg.cluster, taskDefinition: fargate }))
      .toThrow(/uses EC2 capacity providers, but the task definition is not EC2-compatible/);

    const none = stack();
    const withNone = clusterWithStrategy(none, 'none');
    expect(() => new EcsTaskRunner(none, 'Seed', { cluster: withNone.cluster, taskDefinition: ec2Task(none), launchTarget: TaskLaunchTarget.clusterDefault() }))
      .toThrow(/launchTarget is TaskLaunchTarget\.clusterDefault\(\), but the cluster Stack\/Cluster has no default capacity provider strategy/);
    expect(() => new EcsTaskRunner(none, 'Spot', {
      cluster: withNone.cluster,
      taskDefinition: fargateTask(none),
      launchTarget: TaskLaunchTarget.capacityProviders([{ capacityProvider: 'FARGATE_SPOT' }], {
        placementConstraints: [ecs.PlacementConstraint.distinctInstances()],
      }),
    })).toThrow(/TaskLaunchTarget\.capacityProviders\(\[FARGATE_SPOT\]\), whose strategy is Fargate's: placement constraints and strategies do not apply to Fargate/);
  });
});

describe('the network a Fargate task needs, in a VPC of the app', () => {
  test('fails on the isolated subnets a VPC without NAT gateways gives by default, when it has no ECR endpoints', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0 });
    runnerIn(s, vpc);

    expect(() => synth(s)).toThrow(/launchTarget: the Fargate tasks go to subnets without a route out \(Stack\/Vpc\/IsolatedSubnet1, Stack\/Vpc\/IsolatedSubnet2\), and the VPC has no interface endpoint for ECR \(ecr\.api\) and ECR Docker \(ecr\.dkr\): they cannot pull their image/);
  });

  test('takes isolated subnets with the ECR endpoints, and warns naming the endpoints still missing (S3, Logs, Secrets Manager)', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0 });
    vpc.addInterfaceEndpoint('EcrApi', { service: ec2.InterfaceVpcEndpointAwsService.ECR });
    vpc.addInterfaceEndpoint('EcrDkr', { service: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER });
    const secret = secretsmanager.Secret.fromSecretNameV2(s, 'Db', 'prod/db');
    runnerIn(s, vpc, {}, fargateTask(s, { secret }));

    expect(() => synth(s)).not.toThrow();
    const [warning] = warnings(s, 'taskEndpoints');
    expect(warning.entry.data).toMatch(/^The Fargate tasks go to subnets without a route out \(.*\): they reach AWS only through VPC endpoints\. The VPC has no endpoint for S3 \(a gateway endpoint: ECR keeps the image layers in S3\), CloudWatch Logs \(logs, for awslogs\), Secrets Manager \(secretsmanager, for the task definition's secrets\): add them/);
    expect(warning.entry.data).not.toMatch(/SSM/);
  });

  test('is quiet with every endpoint the task needs, with a NAT gateway, and with a route out the app adds (a transit gateway)', () => {
    const withEndpoints = stack();
    const isolated = new ec2.Vpc(withEndpoints, 'Vpc', { maxAzs: 2, natGateways: 0, gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } } });
    for (const [id, service] of Object.entries({
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDkr: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    })) isolated.addInterfaceEndpoint(id, { service });
    runnerIn(withEndpoints, isolated);

    const withNat = stack();
    runnerIn(withNat, new ec2.Vpc(withNat, 'Vpc', { maxAzs: 2, natGateways: 1 }));

    const withTransit = stack();
    const routed = new ec2.Vpc(withTransit, 'Vpc', { maxAzs: 2, natGateways: 0 });
    routed.isolatedSubnets.forEach((subnet, i) => new ec2.CfnRoute(withTransit, `ToTransit${i}`, {
      routeTableId: subnet.routeTable.routeTableId, destinationCidrBlock: '0.0.0.0/0', transitGatewayId: 'tgw-0123456789abcdef0',
    }));
    runnerIn(withTransit, routed);

    for (const s of [withEndpoints, withNat, withTransit]) {
      expect(() => synth(s)).not.toThrow();
      expect(warnings(s, 'taskEndpoints')).toEqual([]);
    }
  });

  test('fails on public subnets without a public IP (a VPC with public subnets only), and takes them with assignPublicIp', () => {
    const broken = stack();
    const publicOnly = new ec2.Vpc(broken, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    runnerIn(broken, publicOnly);
    expect(() => synth(broken)).toThrow(/launchTarget: the Fargate tasks go to public subnets \(.*\) without a public IP \(assignPublicIp is off\): their only route out is the internet gateway, which needs one, so they cannot pull their image from ECR or write their logs .* Give assignPublicIp: true, or subnets with a NAT gateway/);

    const fixed = stack();
    const vpc = new ec2.Vpc(fixed, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    runnerIn(fixed, vpc, { launchTarget: TaskLaunchTarget.fargate({ assignPublicIp: true }) });
    expect(() => synth(fixed)).not.toThrow();
    expect(launchOf(fixed)).toMatchObject({ Type: 'FARGATE', AssignPublicIp: 'ENABLED' });
  });

  test('does not check tasks on EC2: the container instance pulls the image and ships the logs', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const taskDefinition = new ecs.Ec2TaskDefinition(s, 'Seed', { networkMode: ecs.NetworkMode.AWS_VPC });
    taskDefinition.addContainer('seed', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/seed:1'), memoryLimitMiB: 256 });
    runnerIn(s, vpc, {}, taskDefinition);

    expect(() => synth(s)).not.toThrow();
    expect(launchOf(s).Type).toBe('EC2');
  });

  test('counts the endpoints added to the VPC after the runner', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0 });
    runnerIn(s, vpc);
    vpc.addInterfaceEndpoint('EcrApi', { service: ec2.InterfaceVpcEndpointAwsService.ECR });
    vpc.addInterfaceEndpoint('EcrDkr', { service: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER });

    expect(() => synth(s)).not.toThrow();
  });
});

describe('the network a Fargate task needs, in an imported VPC', () => {
  const imported = (s: Stack, subnets: { publicSubnetIds?: string[]; privateSubnetIds?: string[]; isolatedSubnetIds?: string[] }) =>
    ec2.Vpc.fromVpcAttributes(s, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['us-east-1a', 'us-east-1b'], ...subnets });

  test('fails on public subnets without a public IP: the import says they are public', () => {
    const s = stack();
    runnerIn(s, imported(s, { publicSubnetIds: PUBLIC_IDS }));

    expect(() => synth(s)).toThrow(new RegExp(`launchTarget: the Fargate tasks go to public subnets \\(${PUBLIC_IDS.join(', ')}\\) without a public IP`));
  });

  test('warns on isolated subnets, naming every endpoint the task needs: synth cannot see an imported VPC\'s endpoints', () => {
    const s = stack();
    runnerIn(s, imported(s, { isolatedSubnetIds: ISOLATED_IDS }));

    expect(() => synth(s)).not.toThrow();
    expect(warnings(s, 'taskEndpoints').map((w) => w.entry.data)).toEqual([expect.stringMatching(new RegExp(
      `^The Fargate tasks go to subnets without a route out \\(${ISOLATED_IDS.join(', ')}\\): they reach AWS only through VPC endpoints\\. `
      + 'Synth cannot see the endpoints of an imported VPC: make sure it has them for ECR \\(ecr\\.api\\), ECR Docker \\(ecr\\.dkr\\), S3 .*, CloudWatch Logs'))]);
  });

  test('an imported task definition: the endpoints it may need are named as such', () => {
    const s = stack();
    const taskDefinition = ecs.TaskDefinition.fromTaskDefinitionAttributes(s, 'Imported', {
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:3', compatibility: ecs.Compatibility.FARGATE, networkMode: ecs.NetworkMode.AWS_VPC,
    });
    const vpc = imported(s, { isolatedSubnetIds: ISOLATED_IDS });
    new EcsTaskRunner(s, 'Migrate', { cluster: ecs.Cluster.fromClusterAttributes(s, 'Cluster', { clusterName: 'prod', vpc }), taskDefinition });

    expect(warnings(s, 'taskEndpoints')[0].entry.data).toMatch(/CloudWatch Logs \(logs, for awslogs\) if the task definition needs it, Secrets Manager .* if the task definition needs it, SSM .* if the task definition needs it/);
  });

  test('Vpc.fromLookup: the subnet groups the lookup found decide, as for fromVpcAttributes', () => {
    const key = 'vpc-provider:account=123456789012:filter.vpc-id=vpc-0a1b2c3d4e5f60718:region=us-east-1:returnAsymmetricSubnets=true';
    const s = stack({
      [key]: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        vpcCidrBlock: '10.0.0.0/16',
        availabilityZones: [],
        subnetGroups: [{
          name: 'Isolated',
          type: 'Isolated',
          subnets: ISOLATED_IDS.map((subnetId, i) => ({ subnetId, cidr: `10.0.${i}.0/24`, availabilityZone: `us-east-1${'ab'[i]}`, routeTableId: `rtb-0${i}` })),
        }],
      },
    });
    runnerIn(s, ec2.Vpc.fromLookup(s, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718' }));

    expect(() => synth(s)).not.toThrow();
    expect(warnings(s, 'taskEndpoints')).toHaveLength(1);
  });

  test('is quiet in private subnets (the import says they have a route out) and in subnets given by id alone', () => {
    const privateOnly = stack();
    runnerIn(privateOnly, imported(privateOnly, { privateSubnetIds: PRIVATE_IDS }));
    const byId = stack();
    const vpc = imported(byId, { privateSubnetIds: PRIVATE_IDS });
    runnerIn(byId, vpc, { launchTarget: TaskLaunchTarget.fargate({ vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(byId, 'Given', 'subnet-0ccccccccccccccc1')] } }) });

    for (const s of [privateOnly, byId]) {
      expect(() => synth(s)).not.toThrow();
      expect(warnings(s, 'taskEndpoints')).toEqual([]);
    }
  });
});

describe('the functions\' security groups', () => {
  test('warns when a security group given to the functions allows inbound traffic, even when the rule comes after the runner', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const database = new ec2.SecurityGroup(s, 'Database', { vpc });
    const runner = runnerIn(s, vpc, { vpc, securityGroups: [database] });
    database.connections.allowFrom(runner, ec2.Port.tcp(5432));

    expect(warnings(s, 'functionSecurityGroups').map((w) => w.entry.data)).toEqual([expect.stringMatching(
      /^securityGroups \(a hardening prop\) are the security groups of the runner's functions .*, not of its tasks; the security group Stack\/Database is one of them, and it allows inbound traffic/)]);
  });

  test('warns when it is the security group of the task definition\'s service, or of the tasks', () => {
    const inStack = () => {
      const s = stack();
      const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
      return { s, vpc, cluster: new ecs.Cluster(s, 'Cluster', { vpc }), taskDefinition: fargateTask(s) };
    };
    const service = inStack();
    const serviceGroup = new ec2.SecurityGroup(service.s, 'ServiceGroup', { vpc: service.vpc, allowAllOutbound: true });
    new ecs.FargateService(service.s, 'Service', { cluster: service.cluster, taskDefinition: service.taskDefinition, securityGroups: [serviceGroup] });
    new EcsTaskRunner(service.s, 'Migrate', { ...service, vpc: service.vpc, securityGroups: [serviceGroup] });
    const tasks = inStack();
    const taskGroup = ec2.SecurityGroup.fromSecurityGroupId(tasks.s, 'Shared', 'sg-0123456789abcdef0');
    new EcsTaskRunner(tasks.s, 'Seed', { ...tasks, vpc: tasks.vpc, securityGroups: [taskGroup], launchTarget: TaskLaunchTarget.fargate({ securityGroups: [taskGroup] }) });

    expect(warnings(service.s, 'functionSecurityGroups').map((w) => w.entry.data)).toEqual([
      expect.stringMatching(/the security group Stack\/ServiceGroup is one of them, and the service Stack\/Service of the task definition uses it/),
    ]);
    expect(warnings(tasks.s, 'functionSecurityGroups').map((w) => w.entry.data)).toEqual([
      expect.stringMatching(/the security group sg-0123456789abcdef0 is one of them, and the tasks use it too \(launchTarget securityGroups\)/),
    ]);
  });

  test('is quiet for a group of the functions\' own', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
    runnerIn(s, vpc, { vpc, securityGroups: [new ec2.SecurityGroup(s, 'Functions', { vpc })] });

    expect(warnings(s, 'functionSecurityGroups')).toEqual([]);
  });
});

describe('results as attributes', () => {
  test('taskArns, exitCode and startedAt are the custom resource\'s attributes, and what uses them waits for the run', () => {
    const s = stack();
    const runner = runnerIn(s, ec2.Vpc.fromVpcAttributes(s, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['us-east-1a'], privateSubnetIds: [PRIVATE_IDS[0]] }));
    const resource = s.getLogicalId(runner.customResource.node.defaultChild as CfnElement);
    const outputs = { TaskArns: runner.taskArns, ExitCode: runner.exitCode, StartedAt: runner.startedAt };
    for (const [id, value] of Object.entries(outputs)) new CfnOutput(s, id, { value });

    const template = synth(s).toJSON();
    expect(Object.fromEntries(Object.entries<any>(template.Outputs).map(([id, o]) => [id, o.Value]))).toEqual({
      TaskArns: { 'Fn::GetAtt': [resource, 'TaskArns'] },
      ExitCode: { 'Fn::GetAtt': [resource, 'ExitCode'] },
      StartedAt: { 'Fn::GetAtt': [resource, 'StartedAt'] },
    });
  });
});

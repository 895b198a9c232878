/**
 * The configurations of EcsTaskRunner the README documents (see test/support/documented-configurations.ts).
 */
import type * as cdk from 'aws-cdk-lib';
import type { DocumentedConfiguration, Modules } from '../support/configuration-kit';
import { ACCOUNT, DEFAULT_CONTROL_TOWER_VIOLATIONS, REGION, hardenedKey, privateVpc } from '../support/configuration-kit';

/** What the defaults break besides the Lambda and log controls: the Provider's waiter is not traced (`tracing`). */
const WAITER_NOT_TRACED = 'CT.STEPFUNCTIONS.PR.2';

/** The user's side: the cluster prod in its VPC, and the migrations task definition defined in the app (awslogs). */
function userMigrations(stack: cdk.Stack, m: Modules) {
  const vpc = privateVpc(stack, m);
  const cluster = m.ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const logGroup = new m.logs.LogGroup(stack, 'AppLogs', { logGroupName: '/ecs/app', retention: m.logs.RetentionDays.ONE_MONTH });
  const taskDefinition = new m.ecs.FargateTaskDefinition(stack, 'AppTask', { family: 'app', cpu: 512, memoryLimitMiB: 1024 });
  taskDefinition.addContainer('app', {
    image: m.ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42'),
    logging: m.ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'app' }),
  });
  const database = m.ec2.SecurityGroup.fromSecurityGroupId(stack, 'DatabaseSg', 'sg-0d1e2f3a4b5c6d7e8');
  return { vpc, cluster, taskDefinition, database };
}

/** A task definition the user registers elsewhere, imported with its roles (the runner passes them to ECS). */
function importedMigrations(stack: cdk.Stack, m: Modules) {
  return m.ecs.TaskDefinition.fromTaskDefinitionAttributes(stack, 'Migrations', {
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:12`,
    compatibility: m.ecs.Compatibility.FARGATE,
    networkMode: m.ecs.NetworkMode.AWS_VPC,
    taskRole: m.iam.Role.fromRoleArn(stack, 'TaskRole', `arn:aws:iam::${ACCOUNT}:role/migrate-task`),
    executionRole: m.iam.Role.fromRoleArn(stack, 'ExecutionRole', `arn:aws:iam::${ACCOUNT}:role/migrate-execution`),
  });
}

export const TASK_RUNNER_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  {
    name: 'EcsTaskRunner: the migration example (overrides, private subnets, 30 minutes, the database\'s security group)',
    build: (stack, m) => {
      const u = userMigrations(stack, m);
      const migrate = new m.lib.EcsTaskRunner(stack, 'Migrate', {
        cluster: u.cluster,
        taskDefinition: u.taskDefinition,
        containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'], environment: { MIGRATE_LOCK_TIMEOUT: '60' } }],
        launchTarget: m.lib.TaskLaunchTarget.fargate({ vpcSubnets: { subnetType: m.ec2.SubnetType.PRIVATE_WITH_EGRESS } }),
        timeout: m.cdk.Duration.minutes(30),
      });
      u.database.connections.allowFrom(migrate, m.ec2.Port.tcp(5432));
    },
    expectedFindings: [],
  },
  {
    name: 'EcsTaskRunner: at its defaults (an imported task definition)',
    build: (stack, m) => {
      const cluster = m.ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc: privateVpc(stack, m) });
      new m.lib.EcsTaskRunner(stack, 'Migrate', { cluster, taskDefinition: importedMigrations(stack, m) });
    },
    expectedFindings: [],
    expectedControlTowerViolations: [...Object.values(DEFAULT_CONTROL_TOWER_VIOLATIONS), WAITER_NOT_TRACED],
  },
  {
    name: 'EcsTaskRunner: hardened for Control Tower (year-long encrypted logs, VPC, tracing)',
    build: (stack, m) => {
      const vpc = privateVpc(stack, m);
      const cluster = m.ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
      new m.lib.EcsTaskRunner(stack, 'Migrate', {
        cluster,
        taskDefinition: importedMigrations(stack, m),
        containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
        logRetention: m.logs.RetentionDays.ONE_YEAR,
        logEncryptionKey: hardenedKey(stack, m),
        vpc,
        tracing: m.lambda.Tracing.ACTIVE,
      });
    },
    expectedFindings: [],
    expectedControlTowerViolations: [],
  },
  {
    name: 'EcsTaskRunner: the run\'s results as attributes (stack outputs that wait for the run)',
    build: (stack, m) => {
      const u = userMigrations(stack, m);
      const migrate = new m.lib.EcsTaskRunner(stack, 'Migrate', {
        cluster: u.cluster,
        taskDefinition: u.taskDefinition,
        containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
      });
      new m.cdk.CfnOutput(stack, 'MigrationTasks', { value: migrate.taskArns });
      new m.cdk.CfnOutput(stack, 'MigrationExitCode', { value: migrate.exitCode });
      new m.cdk.CfnOutput(stack, 'MigrationStartedAt', { value: migrate.startedAt });
    },
    expectedFindings: [],
    expectedAttributes: {
      MigrationTasks: 'Custom::EcsTaskRunner.TaskArns',
      MigrationExitCode: 'Custom::EcsTaskRunner.ExitCode',
      MigrationStartedAt: 'Custom::EcsTaskRunner.StartedAt',
    },
  },
  {
    name: 'EcsTaskRunner: seeding on given container instances (StartTask) and a backfill on Fargate Spot, in one stack',
    build: (stack, m) => {
      const u = userMigrations(stack, m);
      const seedTaskDefinition = m.ecs.TaskDefinition.fromTaskDefinitionAttributes(stack, 'Seed', {
        taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/seed:3`,
        compatibility: m.ecs.Compatibility.EC2,
        networkMode: m.ecs.NetworkMode.BRIDGE,
        taskRole: m.iam.Role.fromRoleArn(stack, 'SeedRole', `arn:aws:iam::${ACCOUNT}:role/seed-task`),
      });
      new m.lib.EcsTaskRunner(stack, 'SeedCaches', {
        cluster: u.cluster,
        taskDefinition: seedTaskDefinition,
        launchTarget: m.lib.TaskLaunchTarget.containerInstances([
          `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/prod/0f1e2d3c4b5a69788f1e2d3c4b5a6978`,
          `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/prod/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d`,
        ]),
        updateCriteria: [{ containerName: 'seed', environmentKeys: ['CACHE_ENDPOINT'] }],
        successCriteria: m.lib.SuccessCriteria.ALL_CONTAINERS,
      });
      new m.lib.EcsTaskRunner(stack, 'Backfill', {
        cluster: u.cluster,
        taskDefinition: u.taskDefinition,
        containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'backfill'] }],
        count: 4,
        launchTarget: m.lib.TaskLaunchTarget.capacityProviders([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]),
        runOn: [m.lib.RunOn.CREATE],
        triggers: { schema: '42' },
      });
    },
    expectedFindings: [],
  },
];

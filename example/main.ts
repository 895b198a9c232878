/**
 * The example app: how a platform team would use cdk-ecs-ops against clusters it already runs.
 * `npx projen example` synthesizes it offline into cdk.out and prints what it made.
 */
import { App, Aspects, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import {
  EcsAgentMonitor, EcsAgentUpdater, EcsParrot, EcsStatusApi, EcsTaskRunner, NotificationChannel, ParrotEvents, ReplacementAction,
  StatusApiAuthorization, TaskLaunchTarget,
} from '../src';

const app = new App();
const stack = new Stack(app, 'EcsOpsExample', {
  env: { account: '123456789012', region: 'eu-west-1' },
  description: 'cdk-ecs-ops example: operations tooling for existing ECS clusters',
});

// What the team already runs: two EC2-backed clusters and their Auto Scaling groups.
const prod = ecs.Cluster.fromClusterArn(stack, 'ProdCluster', 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod');
const staging = ecs.Cluster.fromClusterArn(stack, 'StagingCluster', 'arn:aws:ecs:eu-west-1:123456789012:cluster/staging');
const prodGroup = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'ProdGroup', 'prod-ecs-asg');
const stagingGroup = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'StagingGroup', 'staging-ecs-asg');

// Webhook URLs live in Secrets Manager; the template only names the secret.
const slack = secretsmanager.Secret.fromSecretNameV2(stack, 'SlackWebhook', 'chatops/slack-webhook');
const oncall = sns.Topic.fromTopicArn(stack, 'OnCallTopic', 'arn:aws:sns:eu-west-1:123456789012:ecs-oncall');

new EcsAgentMonitor(stack, 'AgentMonitor', {
  clusters: [prod, staging],
  autoScalingGroups: [prodGroup, stagingGroup],
  failAfter: 3,
  schedule: events.Schedule.rate(Duration.minutes(5)),
  action: ReplacementAction.SET_UNHEALTHY,
  notifications: [NotificationChannel.slack(slack, { jsonKey: 'url' }), NotificationChannel.snsTopic(oncall)],
  createAlarms: true,
});

// One URL for what runs where: the status page for the office network, the JSON and CSV API for scripts there too.
const status = new EcsStatusApi(stack, 'StatusApi', {
  clusters: [prod, staging],
  authorization: StatusApiAuthorization.ipAllowList(['203.0.113.0/24']),
  inheritClusterTags: true,
  title: 'ECS services: prod and staging',
});
new CfnOutput(stack, 'StatusPageUrl', { value: status.url, description: 'The ECS status page (open it from the office network)' });

// ECS agent updates: hourly, one healthy instance per cluster at a time; instances whose AMI is behind their
// group's launch template are reported for an instance refresh.
new EcsAgentUpdater(stack, 'AgentUpdater', {
  clusters: [prod, staging],
  schedule: events.Schedule.rate(Duration.hours(1)),
  maxConcurrentUpdates: 1,
  notifications: [NotificationChannel.slack(slack, { jsonKey: 'url' })],
  reportAmiDrift: true,
  createAlarms: true,
  alarmActions: [new cloudwatchActions.SnsAction(oncall)],
});

// ECS events to the team's Slack channel, coalesced per service; the on-call topic hears when chat cannot.
new EcsParrot(stack, 'Parrot', {
  notifications: [NotificationChannel.slack(slack, { jsonKey: 'url' })],
  clusters: [prod, staging],
  events: ParrotEvents.of({ spotInterruptions: false }),
  ignoreContainers: ['xray-daemon'],
  alarmActions: [new cloudwatchActions.SnsAction(oncall)],
});

// The billing service's database migrations run before each new version of the service is deployed. The service's
// task definition is registered by its own pipeline; the migrations run it with another command, on Fargate, in the
// cluster's private subnets, and a failed migration stops the deployment with the reason.
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
  privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0f1e2d3c4b5a69788'],
});
const fargateCluster = ecs.Cluster.fromClusterAttributes(stack, 'FargateCluster', { clusterName: 'prod-fargate', vpc });
const billing = ecs.TaskDefinition.fromTaskDefinitionAttributes(stack, 'BillingTask', {
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/billing:42',
  compatibility: ecs.Compatibility.FARGATE,
  networkMode: ecs.NetworkMode.AWS_VPC,
  taskRole: iam.Role.fromRoleArn(stack, 'BillingTaskRole', 'arn:aws:iam::123456789012:role/billing-task'),
  executionRole: iam.Role.fromRoleArn(stack, 'BillingExecutionRole', 'arn:aws:iam::123456789012:role/billing-execution'),
});
const migrate = new EcsTaskRunner(stack, 'BillingMigrations', {
  cluster: fargateCluster,
  taskDefinition: billing,
  containerOverrides: [{ containerName: 'billing', command: ['bin/migrate', '--to', 'latest'] }],
  launchTarget: TaskLaunchTarget.fargate(),
  timeout: Duration.minutes(20),
});
const billingDatabase = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BillingDatabase', 'sg-0d1e2f3a4b5c6d7e8');
billingDatabase.connections.allowFrom(migrate, ec2.Port.tcp(5432), 'billing migrations');
// When the last migration ran, and its tasks (empty after a deployment that ran none).
new CfnOutput(stack, 'BillingMigrationStartedAt', { value: migrate.startedAt });
new CfnOutput(stack, 'BillingMigrationTasks', { value: migrate.taskArns });

// cdk-nag finds nothing to acknowledge: each construct acknowledges its own deliberate findings (visible as
// `cdk_nag` metadata in the template, and as CDK acknowledgements for cdk-nag 3), and every scope is given.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
Aspects.of(app).add(new ServerlessChecks({ verbose: true }));

app.synth();

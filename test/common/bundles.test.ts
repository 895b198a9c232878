/**
 * Every `lambda/<name>` handler is shipped as a bundle that a construct uses, and every bundle a construct
 * names has its handler: a typo or a forgotten handler fails here, not at a user's synth.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EcsAgentMonitor, EcsAgentUpdater, EcsParrot, EcsStatusApi, EcsTaskRunner, NotificationChannel, TaskLaunchTarget } from '../../src';
import { HANDLER_BUNDLES, HandlerBundle } from '../../src/common/handler-function';

const ROOT = path.join(__dirname, '..', '..');

/** One construct per bundle, at its smallest. */
const CONSTRUCTS: Record<HandlerBundle, (scope: Construct) => void> = {
  'ecs-agent-monitor': (scope) => new EcsAgentMonitor(scope, 'Monitor', {
    clusters: [ecs.Cluster.fromClusterArn(scope, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod')],
  }),
  'ecs-status-api': (scope) => new EcsStatusApi(scope, 'Status'),
  'ecs-agent-updater': (scope) => new EcsAgentUpdater(scope, 'Updater', {
    clusters: [ecs.Cluster.fromClusterArn(scope, 'UpdaterCluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod')],
  }),
  'ecs-parrot': (scope) => new EcsParrot(scope, 'Parrot', {
    notifications: [NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(scope, 'Slack', 'chatops/slack'))],
  }),
  'ecs-task-runner': (scope) => new EcsTaskRunner(scope, 'Runner', {
    cluster: ecs.Cluster.fromClusterArn(scope, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod'),
    taskDefinition: ecs.TaskDefinition.fromTaskDefinitionArn(scope, 'Migrations', 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:1'),
    launchTarget: TaskLaunchTarget.ec2(),
  }),
};

test('the handlers in lambda/ are exactly the bundles the constructs may name', () => {
  const handlers = fs.readdirSync(path.join(ROOT, 'lambda'))
    .filter((name) => name !== 'common' && fs.existsSync(path.join(ROOT, 'lambda', name, 'index.ts')));
  expect([...HANDLER_BUNDLES].sort()).toEqual(handlers.sort());
});

test.each(HANDLER_BUNDLES)('a construct runs the %s bundle', (bundle) => {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  CONSTRUCTS[bundle](stack);
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  expect(functions.map((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME)).toContain(bundle);
  expect(fs.existsSync(path.join(ROOT, 'assets', bundle))).toBe(true);
});

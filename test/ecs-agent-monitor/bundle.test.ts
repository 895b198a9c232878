/**
 * The shipped EcsAgentMonitor bundle, run in fresh Node.js 24 processes against a stand-in for AWS with the
 * environment the construct synthesizes: a quiet run, and runs that load the chunks a quiet run never loads
 * (Auto Scaling, EC2, SNS) to replace an instance and report it.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentMonitor, EcsAgentMonitorProps, NotificationChannel, ReplacementAction, TerminationScope } from '../../src';
import { ACCOUNT, REGION, TYPICAL_RUNS, clientsLoaded, quietCluster } from '../bundles/typical-runs';
import { AwsStandin } from '../support/aws-standin';
import { RunBundleResult, runBundle } from '../support/run-bundle';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ASSET = path.join(__dirname, '..', '..', 'assets', 'ecs-agent-monitor');
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

function environment(props: Partial<EcsAgentMonitorProps> = {}): Record<string, string> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const monitor = new EcsAgentMonitor(stack, 'Monitor', {
    clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
    autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'prod-asg')],
    notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
    terminationScope: TerminationScope.tag('ecs-cluster', 'prod'),
    ...props,
  });
  return synthesizedEnvironment(stack, monitor.handler);
}

/** Instance 0 of `prod` is disconnected and its stored count is at failAfter - 1, so this run replaces it. */
function dueInstance(): string {
  const [arn] = quietCluster(standin);
  standin.on('ecs', 'DescribeContainerInstances', (input: { containerInstances: string[] }) => ({
    containerInstances: input.containerInstances.map((a, i) => ({
      containerInstanceArn: a,
      ec2InstanceId: `i-0${String(i).padStart(16, '0')}`,
      status: 'ACTIVE',
      agentConnected: a !== arn,
      registeredAt: new Date(Date.now() - 86_400_000),
    })),
  }));
  const live = String(Math.floor(Date.now() / 1000) + 3600);
  standin.on('dynamodb', 'Query', { Items: [{ instance: { S: arn }, failures: { N: '1' }, expiresAt: { N: live } }], Count: 1 });
  standin.on('dynamodb', 'UpdateItem', { Attributes: { failures: { N: '2' } } });
  standin.on('dynamodb', 'BatchWriteItem', { UnprocessedItems: {} });
  standin.on('autoscaling', 'DescribeAutoScalingInstances', {
    AutoScalingInstances: [{
      InstanceId: 'i-00000000000000000',
      AutoScalingGroupName: 'prod-asg',
      LifecycleState: 'InService',
      HealthStatus: 'HEALTHY',
      AvailabilityZone: `${REGION}a`,
      ProtectedFromScaleIn: false,
    }],
  });
  standin.on('sns', 'Publish', { MessageId: 'message-1' });
  return arn;
}

const chunksOf = (run: RunBundleResult) => run.loadedFiles.map((f) => f.path);
const clientsOf = (run: RunBundleResult) => clientsLoaded(ASSET, run.loadedFiles);

/** A run with nothing to do, on a stand-in of its own. */
async function quietRun(env: Record<string, string>): Promise<RunBundleResult> {
  const own = await new AwsStandin().start();
  try {
    quietCluster(own);
    own.on('dynamodb', 'Query', { Items: [] });
    const run = await runBundle({ assetDir: ASSET, environment: env, event: {}, standin: own });
    expect(run.error).toBeUndefined();
    return run;
  } finally {
    await own.stop();
  }
}

test('a quiet run loads no Auto Scaling, EC2, SNS or Redis code', async () => {
  const quiet = TYPICAL_RUNS.find((r) => r.bundle === 'ecs-agent-monitor')!;
  quiet.answer(standin);

  const run = await runBundle({ assetDir: ASSET, environment: quiet.environment(), event: quiet.event, standin });

  expect(run.error).toBeUndefined();
  expect(run.result).toEqual({ clusters: [expect.objectContaining({ cluster: 'prod', errors: [], done: [] })] });
  expect(clientsOf(run)).toEqual(['DynamoDB', 'ECS']);
  // With groups, SNS and every action configured, a quiet run still loads the same code.
  for (const action of Object.values(ReplacementAction)) {
    expect(chunksOf(await quietRun(environment({ action })))).toEqual(chunksOf(run));
  }
});

test.each([
  [ReplacementAction.SET_UNHEALTHY, ['autoscaling:SetInstanceHealth'], ['Auto Scaling', 'DynamoDB', 'ECS', 'SNS']],
  // Remembered as detached before the detach, forgotten once terminated: a half-done replacement is finished by a later run.
  [ReplacementAction.DETACH_AND_TERMINATE, ['dynamodb:UpdateItem', 'autoscaling:DetachInstances', 'ec2:TerminateInstances', 'dynamodb:BatchWriteItem'], ['Auto Scaling', 'DynamoDB', 'EC2', 'ECS', 'SNS']],
])('%s: loads its clients on first use, replaces the due instance, clears its count and reports on SNS', async (action, replaceCalls, clients) => {
  // Prepare
  dueInstance();
  standin.on('autoscaling', 'SetInstanceHealth', {});
  standin.on('autoscaling', 'DetachInstances', { Activities: [] });
  standin.on('ec2', 'TerminateInstances', { TerminatingInstances: [{ InstanceId: 'i-00000000000000000' }] });
  const quiet = await quietRun(environment({ action }));

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment({ action }), event: {}, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result.clusters[0]).toMatchObject({ cluster: 'prod', errors: [], done: [expect.objectContaining({ kind: 'replace', action })] });
  const calls = standin.calls.map((c) => `${c.service}:${c.operation}`);
  expect(calls.filter((c) => !c.startsWith('ecs:'))).toEqual([
    'dynamodb:Query', 'dynamodb:UpdateItem', 'autoscaling:DescribeAutoScalingInstances', ...replaceCalls, 'dynamodb:BatchWriteItem', 'sns:Publish',
  ]);
  expect(standin.callsTo('sns', 'Publish')[0].input).toMatchObject({ TopicArn: TOPIC_ARN, Subject: expect.stringMatching(/^\[OK\] Replacing 1 instance/) });
  expect(standin.calls.filter((c) => c.status !== 200)).toEqual([]);
  expect(clientsOf(run)).toEqual(clients);
  // The clients of the replacement and the notification came in chunks the quiet run never loaded.
  expect(chunksOf(run).length).toBeGreaterThan(chunksOf(quiet).length);
  expect(chunksOf(quiet).every((f) => chunksOf(run).includes(f))).toBe(true);
});

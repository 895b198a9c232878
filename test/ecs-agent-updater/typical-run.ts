/**
 * The agent updater's typical run (for TYPICAL_RUNS in test/bundles/typical-runs.ts, the bundle smoke test and the
 * cold-start benchmark), and the stand-in answers its bundle tests share.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsAgentUpdater } from '../../src';
import type { TypicalRun } from '../bundles/typical-runs';
import type { AwsStandin } from '../support/aws-standin';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The scheduled event of 2026-03-02 08:00 UTC, as the rule delivers it. */
export const SCHEDULED_EVENT = {
  'version': '0',
  'id': '5f8e2b8a-1f0c-4d7e-9a39-6b2a1c0d9e11',
  'detail-type': 'Scheduled Event',
  'source': 'aws.events',
  'account': ACCOUNT,
  'time': '2026-03-02T08:00:00Z',
  'region': REGION,
  'resources': [`arn:aws:events:${REGION}:${ACCOUNT}:rule/Ops-UpdaterSchedule`],
  'detail': {},
};

/**
 * The cluster `prod` with `versions.length` connected, ACTIVE Amazon Linux x86_64 instances, one per agent
 * version given. Returns their container instance ARNs.
 */
export function clusterWithAgents(standin: AwsStandin, versions: readonly string[], cluster = 'prod'): string[] {
  const arns = versions.map((_, i) => `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${String(i).padStart(32, '0')}`);
  standin.on('ecs', 'DescribeClusters', (input: { clusters: string[] }) => ({
    clusters: input.clusters.map((name) => ({ clusterName: name, clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`, status: 'ACTIVE', tags: [] })),
    failures: [],
  }));
  standin.on('ecs', 'ListContainerInstances', { containerInstanceArns: arns });
  standin.on('ecs', 'DescribeContainerInstances', (input: { containerInstances: string[] }) => ({
    containerInstances: input.containerInstances.map((arn) => {
      const i = arns.indexOf(arn);
      return {
        containerInstanceArn: arn,
        ec2InstanceId: `i-0${String(i).padStart(16, '0')}`,
        status: 'ACTIVE',
        agentConnected: true,
        versionInfo: { agentVersion: versions[i], agentHash: 'a1b2c3d', dockerVersion: 'DockerVersion: 25.0.8' },
        attributes: [
          { name: 'ecs.os-type', value: 'linux' },
          { name: 'ecs.os-family', value: 'LINUX' },
          { name: 'ecs.cpu-architecture', value: 'x86_64' },
          { name: 'ecs.ami-id', value: 'ami-0a1b2c3d4e5f60001' },
        ],
        tags: [],
        registeredAt: new Date(Date.now() - 86_400_000 + i * 60_000),
      };
    }),
    failures: [],
  }));
  return arns;
}

/** The state table of a first run: nothing remembered, every write accepted. */
export function emptyStateTable(standin: AwsStandin): void {
  standin.on('dynamodb', 'BatchGetItem', { Responses: {}, UnprocessedKeys: {} });
  standin.on('dynamodb', 'BatchWriteItem', { UnprocessedItems: {} });
}

export const AGENT_UPDATER_TYPICAL_RUN: TypicalRun = {
  bundle: 'ecs-agent-updater',
  description: 'a scheduled run over 3 instances with outdated agents: load state, DescribeClusters, list, describe, one UpdateContainerAgent, save state',
  environment: () => {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
    return synthesizedEnvironment(stack, new EcsAgentUpdater(stack, 'Updater', { clusters: [cluster] }).handler);
  },
  event: SCHEDULED_EVENT,
  answer: (standin) => {
    clusterWithAgents(standin, ['1.90.0', '1.90.0', '1.90.0']);
    emptyStateTable(standin);
    standin.on('ecs', 'UpdateContainerAgent', (input: { containerInstance: string }) => ({
      containerInstance: { containerInstanceArn: input.containerInstance, agentUpdateStatus: 'PENDING', agentConnected: true },
    }));
  },
  calls: [
    'dynamodb:BatchGetItem', 'ecs:DescribeClusters', 'ecs:ListContainerInstances', 'ecs:DescribeContainerInstances',
    'ecs:UpdateContainerAgent', 'dynamodb:BatchWriteItem',
  ],
  clients: ['DynamoDB', 'ECS'],
  clientPackages: [
    '@aws-sdk/client-ecs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-auto-scaling', '@aws-sdk/client-ec2',
    '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm', '@aws-sdk/client-sns',
  ],
};

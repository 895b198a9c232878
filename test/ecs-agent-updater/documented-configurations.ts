/**
 * The configurations of EcsAgentUpdater the README documents (see test/support/documented-configurations.ts).
 */
import type { DocumentedConfiguration } from '../support/configuration-kit';
import { ACCOUNT, DEFAULT_CONTROL_TOWER_VIOLATIONS, REGION, hardenedKey, privateVpc, userFleet } from '../support/configuration-kit';

/** What an updater of every cluster leaves to see: its account-wide grants (`clusters` removes them). */
const ACCOUNT_WIDE = [
  'AwsSolutions-IAM5[Resource::*]',
  `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${REGION}:${ACCOUNT}:cluster/*]`,
  `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${REGION}:${ACCOUNT}:container-instance/*]`,
];

export const AGENT_UPDATER_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  {
    name: 'EcsAgentUpdater: the README example (one cluster, hourly, Slack)',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsAgentUpdater(stack, 'Updater', {
        clusters: [f.cluster],
        schedule: m.cdk.aws_events.Schedule.rate(m.cdk.Duration.hours(1)),
        maxConcurrentUpdates: 1,
        skipTag: { key: 'ecs-ops:agent-updates', value: 'skip' },
        dryRun: false,
        notifications: [f.slack],
        reportAmiDrift: false,
      });
    },
    expectedFindings: [],
    expectedControlTowerViolations: Object.values(DEFAULT_CONTROL_TOWER_VIOLATIONS),
  },
  {
    name: 'EcsAgentUpdater: every cluster of the account (no clusters)',
    build: (stack, m) => {
      new m.lib.EcsAgentUpdater(stack, 'Updater', {});
    },
    expectedFindings: ACCOUNT_WIDE,
  },
  {
    name: 'EcsAgentUpdater: hardened for Control Tower (year-long encrypted logs, VPC, key, tracing, alarms with actions)',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const key = hardenedKey(stack, m);
      new m.lib.EcsAgentUpdater(stack, 'Updater', {
        clusters: [f.cluster],
        notifications: [f.sns],
        logRetention: m.logs.RetentionDays.ONE_YEAR,
        logEncryptionKey: key,
        encryptionKey: key,
        vpc: privateVpc(stack, m),
        tracing: m.lambda.Tracing.ACTIVE,
        createAlarms: true,
        alarmActions: [new m.cloudwatchActions.SnsAction(m.sns.Topic.fromTopicArn(stack, 'Alarms', `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`))],
      });
    },
    expectedFindings: [],
    expectedControlTowerViolations: [],
  },
  {
    name: 'EcsAgentUpdater: a dry run of two clusters with the AMI drift report, Teams and SNS',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const batch = m.ecs.Cluster.fromClusterArn(stack, 'Batch', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/batch`);
      new m.lib.EcsAgentUpdater(stack, 'Updater', {
        clusters: [f.cluster, batch],
        dryRun: true,
        reportAmiDrift: true,
        notifications: [f.teams, f.sns],
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsAgentUpdater: two updates at a time, a skip tag of any value, every six hours, alarms',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsAgentUpdater(stack, 'Updater', {
        clusters: [f.cluster],
        maxConcurrentUpdates: 2,
        skipTag: { key: 'no-agent-updates' },
        schedule: m.cdk.aws_events.Schedule.rate(m.cdk.Duration.hours(6)),
        createAlarms: true,
      });
    },
    expectedFindings: [],
  },
];

/**
 * The configurations of EcsAgentMonitor the README documents (see test/support/documented-configurations.ts).
 */
import type { DocumentedConfiguration } from '../support/configuration-kit';
import { ACCOUNT, DEFAULT_CONTROL_TOWER_VIOLATIONS, REGION, hardenedKey, privateVpc, userFleet } from '../support/configuration-kit';

const UNSCOPED_GROUPS = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*]`;

export const AGENT_MONITOR_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  {
    name: 'EcsAgentMonitor: the smallest example (no autoScalingGroups)',
    build: (stack, m) => {
      new m.lib.EcsAgentMonitor(stack, 'Monitor', { clusters: [userFleet(stack, m).cluster] });
    },
    expectedFindings: [UNSCOPED_GROUPS],
    expectedControlTowerViolations: Object.values(DEFAULT_CONTROL_TOWER_VIOLATIONS),
  },
  {
    name: 'EcsAgentMonitor: hardened for Control Tower (year-long encrypted logs, VPC, key, tracing, alarms with actions)',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const key = hardenedKey(stack, m);
      new m.lib.EcsAgentMonitor(stack, 'Monitor', {
        clusters: [f.cluster],
        autoScalingGroups: [f.group],
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
    name: 'EcsAgentMonitor: scoped to its groups, with Slack, Teams and SNS and alarms',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsAgentMonitor(stack, 'Monitor', {
        clusters: [f.cluster],
        autoScalingGroups: [f.group],
        notifications: [f.slack, f.teams, f.sns],
        createAlarms: true,
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsAgentMonitor: DETACH_AND_TERMINATE with a Redis store in a VPC',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const vpc = privateVpc(stack, m);
      new m.lib.EcsAgentMonitor(stack, 'Monitor', {
        clusters: [f.cluster],
        autoScalingGroups: [f.group],
        action: m.lib.ReplacementAction.DETACH_AND_TERMINATE,
        terminationScope: m.lib.TerminationScope.instanceProfiles([m.iam.InstanceProfile.fromInstanceProfileName(stack, 'Profile', 'ecs-instance')]),
        failureStore: m.lib.FailureStore.redis({
          vpc,
          host: 'counts.abc123.ng.0001.use1.cache.amazonaws.com',
          tls: true,
          authToken: m.secretsmanager.Secret.fromSecretNameV2(stack, 'RedisAuth', 'redis/auth'),
        }),
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsAgentMonitor: TERMINATE, standalone instances too',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsAgentMonitor(stack, 'Monitor', {
        clusters: [f.cluster],
        autoScalingGroups: [f.group],
        action: m.lib.ReplacementAction.TERMINATE,
        terminateStandaloneInstances: true,
        terminationScope: m.lib.TerminationScope.tag('ecs-cluster', 'prod'),
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsAgentMonitor: NOTIFY_ONLY (a dry run) on two clusters',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const other = m.ecs.Cluster.fromClusterArn(stack, 'Other', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/batch`);
      new m.lib.EcsAgentMonitor(stack, 'Monitor', {
        clusters: [f.cluster, other],
        action: m.lib.ReplacementAction.NOTIFY_ONLY,
        notifications: [f.sns],
      });
    },
    expectedFindings: [],
  },
];

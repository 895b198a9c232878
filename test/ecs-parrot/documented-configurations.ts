/**
 * The configurations of EcsParrot the README documents (see test/support/documented-configurations.ts).
 */
import type { DocumentedConfiguration } from '../support/configuration-kit';
import { ACCOUNT, DEFAULT_CONTROL_TOWER_VIOLATIONS, REGION, hardenedKey, privateVpc, userFleet } from '../support/configuration-kit';

/** Without `clusters`, enrichment may read the container instances of every cluster. */
const EVERY_CONTAINER_INSTANCE = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${REGION}:${ACCOUNT}:container-instance/*]`;

export const PARROT_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  {
    name: 'EcsParrot: the smallest example (Slack, every cluster)',
    build: (stack, m) => {
      new m.lib.EcsParrot(stack, 'Parrot', { notifications: [userFleet(stack, m).slack] });
    },
    expectedFindings: [EVERY_CONTAINER_INSTANCE],
    // The dead-letter queue's alarm has no action until alarmActions gives it one.
    expectedControlTowerViolations: [...Object.values(DEFAULT_CONTROL_TOWER_VIOLATIONS), 'CT.CLOUDWATCH.PR.1'],
  },
  {
    name: 'EcsParrot: Slack for one cluster, quieter (no Spot interruptions, no draining, an ignored sidecar, a service left out)',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsParrot(stack, 'Parrot', {
        notifications: [f.slack],
        clusters: [f.cluster],
        events: m.lib.ParrotEvents.of({ spotInterruptions: false, instanceDraining: false }),
        ignoreContainers: ['xray-daemon', 'log-router'],
        services: { exclude: ['canary'] },
        batchWindow: m.cdk.Duration.seconds(30),
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsParrot: Teams with every INFO event and the ECS API calls from CloudTrail',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      new m.lib.EcsParrot(stack, 'Parrot', {
        notifications: [f.teams],
        clusters: [f.cluster],
        minimumSeverity: m.lib.Severity.INFO,
        includeApiCalls: true,
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsParrot: SNS for errors only, without enrichment (no ECS permissions)',
    build: (stack, m) => {
      new m.lib.EcsParrot(stack, 'Parrot', {
        notifications: [userFleet(stack, m).sns],
        minimumSeverity: m.lib.Severity.ERROR,
        enrichment: false,
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsParrot: hardened for Control Tower (year-long encrypted logs, VPC, key, tracing, an alarm action)',
    build: (stack, m) => {
      const f = userFleet(stack, m);
      const key = hardenedKey(stack, m);
      new m.lib.EcsParrot(stack, 'Parrot', {
        notifications: [f.slack, f.sns],
        clusters: [f.cluster],
        logRetention: m.logs.RetentionDays.ONE_YEAR,
        logEncryptionKey: key,
        encryptionKey: key,
        vpc: privateVpc(stack, m),
        tracing: m.lambda.Tracing.ACTIVE,
        alarmActions: [new m.cloudwatchActions.SnsAction(m.sns.Topic.fromTopicArn(stack, 'Alarms', `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`))],
      });
    },
    expectedFindings: [],
    expectedControlTowerViolations: [],
  },
];

/**
 * The configurations of EcsStatusApi the README documents (see test/support/documented-configurations.ts).
 */
import type { DocumentedConfiguration } from '../support/configuration-kit';
import { ACCOUNT, DEFAULT_CONTROL_TOWER_VIOLATIONS, REGION, hardenedKey, privateVpc, userFleet } from '../support/configuration-kit';

/** Without clusters the function reads every cluster's services: the user sees it, and `clusters` scopes it. */
const ACCOUNT_WIDE_DESCRIBE = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${REGION}:${ACCOUNT}:service/*]`;

/** With none(), the methods have no authorization: the user chose it, and sees it (synth warns too). */
const PUBLIC_METHODS = ['AwsSolutions-APIG4', 'AwsSolutions-COG4'].flatMap((rule) => [rule, rule, rule]);

export const STATUS_API_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  {
    name: 'EcsStatusApi: the defaults (every cluster, IAM authorization)',
    build: (stack, m) => {
      new m.lib.EcsStatusApi(stack, 'Status');
    },
    expectedFindings: [ACCOUNT_WIDE_DESCRIBE],
    expectedControlTowerViolations: [...Object.values(DEFAULT_CONTROL_TOWER_VIOLATIONS), 'CT.APIGATEWAY.PR.2'].sort(),
  },
  {
    name: 'EcsStatusApi: hardened for Control Tower (year-long encrypted logs, VPC, tracing)',
    build: (stack, m) => {
      const key = hardenedKey(stack, m);
      new m.lib.EcsStatusApi(stack, 'Status', {
        clusters: [userFleet(stack, m).cluster],
        logRetention: m.logs.RetentionDays.ONE_YEAR,
        logEncryptionKey: key,
        vpc: privateVpc(stack, m),
        tracing: m.lambda.Tracing.ACTIVE,
      });
    },
    expectedFindings: [],
    expectedControlTowerViolations: [],
  },
  {
    name: 'EcsStatusApi: one cluster, IAM authorization, cluster tags inherited, organisation tag keys, the API Gateway logging role of the account',
    build: (stack, m) => {
      new m.lib.EcsStatusApi(stack, 'Status', {
        clusters: [userFleet(stack, m).cluster],
        authorization: m.lib.StatusApiAuthorization.iam(),
        cacheTtl: m.cdk.Duration.seconds(60),
        inheritClusterTags: true,
        tagKeys: { environment: 'stage', owner: 'team' },
        cloudWatchRole: true,
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsStatusApi: an IP allow list for the office and the VPN',
    build: (stack, m) => {
      new m.lib.EcsStatusApi(stack, 'Status', {
        clusters: [userFleet(stack, m).cluster],
        authorization: m.lib.StatusApiAuthorization.ipAllowList(['203.0.113.0/24', '198.51.100.7/32']),
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsStatusApi: an API key for a dashboard, behind AWS WAF',
    build: (stack, m) => {
      new m.lib.EcsStatusApi(stack, 'Status', {
        clusters: [userFleet(stack, m).cluster],
        authorization: m.lib.StatusApiAuthorization.apiKey(),
        webAclArn: `arn:aws:wafv2:${REGION}:${ACCOUNT}:regional/webacl/ops/0a1b2c3d-1111-2222-3333-444455556666`,
      });
    },
    expectedFindings: [],
  },
  {
    name: 'EcsStatusApi: public (none), two clusters',
    build: (stack, m) => {
      const other = m.ecs.Cluster.fromClusterArn(stack, 'Other', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/batch`);
      new m.lib.EcsStatusApi(stack, 'Status', {
        clusters: [userFleet(stack, m).cluster, other],
        authorization: m.lib.StatusApiAuthorization.none(),
      });
    },
    expectedFindings: PUBLIC_METHODS,
  },
];

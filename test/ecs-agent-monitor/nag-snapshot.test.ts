import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsAgentMonitor, EcsAgentMonitorProps, FailureStore, NotificationChannel, ReplacementAction } from '../../src';
import { NagAcknowledgement, expectNoUnacknowledgedNagFindings } from '../support/nag';

function stackWith(props: (stack: Stack) => Partial<EcsAgentMonitorProps> = () => ({})) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
  const monitor = new EcsAgentMonitor(stack, 'Monitor', { clusters: [cluster], ...props(stack) });
  return { stack, monitor };
}

/** What a user of EcsAgentMonitor acknowledges, with the reasons the README gives. */
function acknowledgements(monitor: EcsAgentMonitor): NagAcknowledgement[] {
  return [
    {
      ruleId: 'AwsSolutions-IAM5',
      scope: monitor,
      appliesTo: ['Resource::*'],
      reason: 'autoscaling:DescribeAutoScalingInstances has no resource-level permissions',
    },
    {
      ruleId: 'AwsSolutions-IAM5',
      scope: monitor,
      appliesTo: [/^Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:container-instance\/prod\/\*$/],
      reason: 'container instance ids are known only at run time; scoped to the cluster by name and the ecs:cluster condition',
    },
    { ruleId: 'Serverless-LambdaTracing', scope: monitor, reason: 'X-Ray is off by default to keep a five-minute schedule free of tracing cost' },
    { ruleId: 'Serverless-LambdaDLQ', scope: monitor, reason: 'a scheduled check is not retried; the next run checks again' },
    { ruleId: 'Serverless-LambdaAsyncFailureDestination', scope: monitor, reason: 'a failed run is reported by the Errors metric; the next run checks again' },
    { ruleId: 'Serverless-EventBusDLQ', scope: monitor, reason: 'the schedule target is not retried on purpose; the next run covers a missed one' },
  ];
}

describe('EcsAgentMonitor template', () => {
  test('matches the snapshot at its defaults', () => {
    const { stack } = stackWith();
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });

  test('has no cdk-nag finding beyond the acknowledged ones, scoped to given groups', () => {
    const { stack, monitor } = stackWith((s) => ({
      autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(s, 'Asg', 'prod-asg')],
      notifications: [NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(s, 'Slack', 'chatops/slack'))],
    }));

    expectNoUnacknowledgedNagFindings(stack, [
      ...acknowledgements(monitor),
      {
        ruleId: 'AwsSolutions-IAM5',
        scope: monitor,
        appliesTo: [/^Resource::arn:<AWS::Partition>:autoscaling:us-east-1:123456789012:autoScalingGroup:\*:autoScalingGroupName\/prod-asg$/],
        reason: 'a group imported by name has a wildcard in place of its generated id',
      },
    ]);
  });

  test('has no cdk-nag finding beyond the acknowledged ones with DETACH_AND_TERMINATE and a Redis store', () => {
    const { stack, monitor } = stackWith((s) => ({
      action: ReplacementAction.DETACH_AND_TERMINATE,
      autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(s, 'Asg', 'prod-asg')],
      failureStore: FailureStore.redis({
        vpc: ec2.Vpc.fromVpcAttributes(s, 'Vpc', { vpcId: 'vpc-1234', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] }),
        host: 'counts.abc123.ng.0001.use1.cache.amazonaws.com',
        tls: true,
      }),
    }));

    expectNoUnacknowledgedNagFindings(stack, [
      ...acknowledgements(monitor),
      {
        ruleId: 'AwsSolutions-IAM5',
        scope: monitor,
        appliesTo: [
          /^Resource::arn:<AWS::Partition>:autoscaling:us-east-1:123456789012:autoScalingGroup:\*:autoScalingGroupName\/prod-asg$/,
          /^Resource::arn:<AWS::Partition>:ec2:us-east-1:123456789012:instance\/\*$/,
        ],
        reason: 'the instance to terminate is known only at run time, after it was detached from its group',
      },
      {
        ruleId: 'AwsSolutions-IAM5',
        scope: monitor,
        appliesTo: ['Resource::*'],
        reason: 'a function in a VPC manages its network interfaces; those EC2 actions take no resource-level scoping',
      },
    ]);
  });
});

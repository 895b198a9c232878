import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsTaskRunner } from '../../src';

describe('EcsTaskRunner template', () => {
  test('matches the snapshot at its defaults', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
    });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Migrations', { family: 'migrate' });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42'), logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'migrate' }) });
    new EcsTaskRunner(stack, 'Migrate', { cluster, taskDefinition });
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsAgentUpdater } from '../../src';

describe('EcsAgentUpdater template', () => {
  test('matches the snapshot at its defaults', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
    new EcsAgentUpdater(stack, 'Updater', { clusters: [cluster] });
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});

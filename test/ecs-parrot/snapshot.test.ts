import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsParrot, NotificationChannel } from '../../src';

describe('EcsParrot template', () => {
  test('matches the snapshot at its defaults', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const slack = NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'));
    new EcsParrot(stack, 'Parrot', { notifications: [slack] });
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsStatusApi } from '../../src';

describe('EcsStatusApi template', () => {
  test('matches the snapshot at its defaults', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    new EcsStatusApi(stack, 'Status');
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});

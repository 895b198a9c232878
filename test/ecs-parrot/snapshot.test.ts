import { Template } from 'aws-cdk-lib/assertions';
import { snapshotStack } from '../support/snapshot-configurations';

describe('EcsParrot template', () => {
  test('matches the snapshot at its defaults', () => {
    expect(Template.fromStack(snapshotStack('EcsParrot')).toJSON()).toMatchSnapshot();
  });
});

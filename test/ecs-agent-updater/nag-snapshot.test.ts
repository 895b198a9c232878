import { Template } from 'aws-cdk-lib/assertions';
import { snapshotStack } from '../support/snapshot-configurations';

describe('EcsAgentUpdater template', () => {
  test('matches the snapshot at its defaults', () => {
    expect(Template.fromStack(snapshotStack('EcsAgentUpdater')).toJSON()).toMatchSnapshot();
  });
});

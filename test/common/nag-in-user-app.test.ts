/**
 * cdk-nag in a user's app: every documented configuration of every construct leaves exactly the findings the
 * README lists (a scope the user did not give), because each construct acknowledges its own deliberate
 * findings, naming each exactly and saying why. Here with cdk-nag 2 on the aws-cdk-lib floor; the consumer
 * tests run the same configurations with cdk-nag 2 and 3 on aws-cdk-lib 2.257.0 to the latest.
 */
import * as cdk from 'aws-cdk-lib';
import { ACCOUNT, DOCUMENTED_CONFIGURATIONS, REGION } from '../support/documented-configurations';
import { MODULES } from '../support/modules';
import { MIN_REASON_LENGTH, collectNagFindings, unusedNagAcknowledgements, writtenNagAcknowledgements } from '../support/nag';


function synthesize(build: (typeof DOCUMENTED_CONFIGURATIONS)[number]['build']): cdk.Stack {
  const stack = new cdk.Stack(new cdk.App(), 'UserStack', { env: { account: ACCOUNT, region: REGION } });
  build(stack, MODULES);
  return stack;
}

describe.each(DOCUMENTED_CONFIGURATIONS)('$name', ({ build, expectedFindings, expectedAttributes }) => {
  test('leaves exactly the documented findings to the user', () => {
    const stack = synthesize(build);

    const findings = collectNagFindings(stack).map((f) => `${f.ruleId}${f.findingId ? `[${f.findingId}]` : ''}`);

    expect(findings.sort()).toEqual([...expectedFindings].sort());
  });

  test('every acknowledgement the construct wrote names a finding it has, with a reason', () => {
    const stack = synthesize(build);

    const written = writtenNagAcknowledgements(stack);

    expect(written.length).toBeGreaterThan(0);
    expect(unusedNagAcknowledgements(stack)).toEqual([]);
    expect(written.filter((a) => a.reason.length < MIN_REASON_LENGTH)).toEqual([]);
    // A granular rule is acknowledged finding by finding, never as a whole.
    expect(written.filter((a) => a.ruleId === 'AwsSolutions-IAM5' && a.findingId === undefined)).toEqual([]);
  });

  if (expectedAttributes) {
    test('the construct\'s attributes it outputs are Fn::GetAtt of its resource', () => {
      const template = cdk.assertions.Template.fromStack(synthesize(build)).toJSON();

      const attributes = Object.fromEntries(Object.keys(expectedAttributes).map((id) => {
        const [logicalId, attribute] = template.Outputs?.[id]?.Value?.['Fn::GetAtt'] ?? [];
        return [id, `${template.Resources[logicalId]?.Type}.${attribute}`];
      }));

      expect(attributes).toEqual(expectedAttributes);
    });
  }
});

test('the acknowledgements are visible in the synthesized template', () => {
  const stack = synthesize(DOCUMENTED_CONFIGURATIONS[0].build);

  const template = cdk.assertions.Template.fromStack(stack).toJSON();

  const policy = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::IAM::Policy');
  expect(policy.Metadata.cdk_nag.rules_to_suppress).toEqual(expect.arrayContaining([
    { id: 'AwsSolutions-IAM5', reason: expect.stringMatching(/no resource-level permissions/), applies_to: ['Resource::*'] },
  ]));
});

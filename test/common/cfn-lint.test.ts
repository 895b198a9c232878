/**
 * cfn-lint, AWS's CloudFormation linter, over the templates the constructs synthesize: every documented
 * configuration and each construct's snapshot configuration. No errors; the only warnings are the ones
 * aws-cdk-lib itself writes and that are harmless, each named below with its reason. One cfn-lint process for all.
 */
import * as cdk from 'aws-cdk-lib';
import { CfnLintFinding, cfnLint } from '../support/cfn-lint';
import { ACCOUNT, DOCUMENTED_CONFIGURATIONS, REGION } from '../support/documented-configurations';
import { MODULES } from '../support/modules';
import { SNAPSHOT_CONSTRUCTS, snapshotStack } from '../support/snapshot-configurations';

/** A template cfn-lint must find an error in (a Lambda runtime that does not exist): the check can fail. */
const KNOWN_BAD = 'a known-bad template';

function templates(): Record<string, any> {
  const out: Record<string, any> = {};
  for (const { name, build } of DOCUMENTED_CONFIGURATIONS) {
    const stack = new cdk.Stack(new cdk.App(), 'UserStack', { env: { account: ACCOUNT, region: REGION } });
    build(stack, MODULES);
    out[name] = cdk.assertions.Template.fromStack(stack).toJSON();
  }
  for (const construct of SNAPSHOT_CONSTRUCTS) {
    out[`${construct}: the snapshot configuration`] = cdk.assertions.Template.fromStack(snapshotStack(construct)).toJSON();
  }
  out[KNOWN_BAD] = {
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: 'arn:aws:iam::123456789012:role/x', Runtime: 'nodejs1.x', Handler: 'index.handler', Code: { ZipFile: 'x' } },
      },
    },
  };
  return out;
}

/**
 * W3005 ("dependency already enforced by a GetAtt") on the DependsOn that aws-cdk-lib gives each Lambda function
 * and state machine on its own role: redundant with the GetAtt of the role's ARN, and harmless (CloudFormation
 * orders by either). aws-cdk-lib writes it; removing it would take an override on every function
 * (https://github.com/aws/aws-cdk/issues/24578, open).
 */
function isCdkRoleDependency(finding: CfnLintFinding, template: any): boolean {
  const match = /^'([^']+)' dependency already enforced by a 'GetAtt' at 'Resources\/([^/']+)\/Properties\/(Role|RoleArn)'$/.exec(finding.message);
  if (finding.rule !== 'W3005' || !match) return false;
  const [, dependency, resource] = match;
  return finding.path.startsWith(`Resources/${resource}/DependsOn`)
    && template.Resources[dependency]?.Type === 'AWS::IAM::Role'
    && ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine'].includes(template.Resources[resource]?.Type);
}

describe('cfn-lint over the synthesized templates', () => {
  let all: Record<string, any>;
  let findings: CfnLintFinding[];

  beforeAll(() => {
    all = templates();
    findings = cfnLint(all, REGION);
  }, 600_000);

  const ours = () => findings.filter((f) => f.template !== KNOWN_BAD);

  test('lints every documented configuration and each construct\'s snapshot configuration', () => {
    expect(Object.keys(all).length).toBe(DOCUMENTED_CONFIGURATIONS.length + SNAPSHOT_CONSTRUCTS.length + 1);
    // cfn-lint ran and can fail: it finds the runtime that does not exist.
    expect(findings.filter((f) => f.template === KNOWN_BAD)).toEqual([expect.objectContaining({ level: 'Error', path: 'Resources/Fn/Properties/Runtime' })]);
  });

  test('no errors', () => {
    expect(ours().filter((f) => f.level === 'Error').map((f) => `${f.template}: ${f.rule} ${f.path}: ${f.message}`)).toEqual([]);
  });

  test('no warnings but aws-cdk-lib\'s own DependsOn of a function on its role (W3005)', () => {
    const warnings = ours().filter((f) => f.level !== 'Error');

    expect(warnings.filter((f) => !isCdkRoleDependency(f, all[f.template])).map((f) => `${f.template}: ${f.rule} ${f.path}: ${f.message}`)).toEqual([]);
  });
});

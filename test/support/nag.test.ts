import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import {
  collectNagFindings,
  expectNoUnacknowledgedNagFindings,
  formatNagFindings,
  NagAcknowledgement,
  reviewNagFindings,
  validateNagAcknowledgements,
} from './nag';

const WILDCARD_REASON = 'ecs:ListClusters supports only the * resource';

/** A role whose only finding is AwsSolutions-IAM5 on its wildcard resource. */
function stackWithWildcardRole() {
  const stack = new Stack(new App(), 'Test');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['ecs:ListClusters'], resources: ['*'] }));
  return { stack, role };
}

describe('collectNagFindings', () => {
  test('reports an IAM5 wildcard finding with rule id, finding id, path and message', () => {
    const { stack } = stackWithWildcardRole();

    expect(collectNagFindings(stack)).toEqual([{
      ruleId: 'AwsSolutions-IAM5',
      findingId: 'Resource::*',
      level: 'Error',
      path: 'Test/Role/DefaultPolicy/Resource',
      message: expect.stringMatching(/wildcard permissions/),
      explanation: expect.any(String),
    }]);
  });

  test('applies the Serverless pack as well as AwsSolutions', () => {
    const stack = new Stack(new App(), 'Test');
    new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });

    const findings = collectNagFindings(stack);

    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ ruleId: 'Serverless-LambdaTracing', level: 'Warning', path: 'Test/Fn/Resource' }),
      expect.objectContaining({ ruleId: 'Serverless-LambdaDLQ', level: 'Error', path: 'Test/Fn/Resource' }),
      expect.objectContaining({
        ruleId: 'AwsSolutions-IAM4',
        findingId: 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        path: 'Test/Fn/ServiceRole/Resource',
      }),
    ]));
    expect(formatNagFindings(findings)).toMatch(/^\[Warning\] Serverless-LambdaTracing at Test\/Fn\/Resource: /m);
  });

  test('returns the same findings when called twice, and after the stack was synthesized', () => {
    const { stack } = stackWithWildcardRole();
    Template.fromStack(stack); // synthesized before the packs were added

    const first = collectNagFindings(stack);
    const second = collectNagFindings(stack);

    expect(first).toHaveLength(1);
    expect(second).toEqual(first);
  });

  test('leaves out findings suppressed with NagSuppressions', () => {
    const { stack, role } = stackWithWildcardRole();
    NagSuppressions.addResourceSuppressions(role, [{ id: 'AwsSolutions-IAM5', reason: WILDCARD_REASON }], true);

    expect(collectNagFindings(stack)).toEqual([]);
  });

  test('leaves no cdk-nag metadata in the template', () => {
    const { stack } = stackWithWildcardRole();
    expectNoUnacknowledgedNagFindings(stack, [{ ruleId: 'AwsSolutions-IAM5', reason: WILDCARD_REASON }]);

    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toMatch(/cdk_nag/);
  });
});

describe('expectNoUnacknowledgedNagFindings', () => {
  test('fails on a wildcard role, listing rule id, path and message', () => {
    const { stack } = stackWithWildcardRole();

    expect(() => expectNoUnacknowledgedNagFindings(stack)).toThrow(
      /1 unacknowledged cdk-nag finding\(s\) in Test:\n {2}- \[Error\] AwsSolutions-IAM5\[Resource::\*\] at Test\/Role\/DefaultPolicy\/Resource: The IAM entity contains wildcard permissions/);
  });

  test('passes once the finding is acknowledged with a reason, scoped to the construct and the finding id', () => {
    const { stack, role } = stackWithWildcardRole();

    const review = expectNoUnacknowledgedNagFindings(stack, [
      { ruleId: 'AwsSolutions-IAM5', scope: role, appliesTo: ['Resource::*'], reason: WILDCARD_REASON },
    ]);

    expect(review.acknowledged).toEqual([{ finding: expect.objectContaining({ ruleId: 'AwsSolutions-IAM5' }), reason: WILDCARD_REASON }]);
  });

  test('accepts a scope given as a path, absolute or relative to the stack, and appliesTo as a RegExp', () => {
    for (const scope of ['Role', 'Test/Role', 'Role/DefaultPolicy/Resource']) {
      const { stack } = stackWithWildcardRole();
      expect(() => expectNoUnacknowledgedNagFindings(stack, [
        { ruleId: 'AwsSolutions-IAM5', scope, appliesTo: [/^Resource::\*$/g], reason: WILDCARD_REASON },
      ])).not.toThrow();
    }
  });

  test('fails when the acknowledgement is scoped to another construct', () => {
    const { stack } = stackWithWildcardRole();
    new iam.Role(stack, 'RoleTwo', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // 'Rol' must not cover 'Role': scopes match whole path segments.
    expect(() => expectNoUnacknowledgedNagFindings(stack, [{ ruleId: 'AwsSolutions-IAM5', scope: 'Rol', reason: WILDCARD_REASON }]))
      .toThrow(/AwsSolutions-IAM5\[Resource::\*\] at Test\/Role\/DefaultPolicy\/Resource/);
    expect(() => expectNoUnacknowledgedNagFindings(stack, [{ ruleId: 'AwsSolutions-IAM5', scope: 'RoleTwo', reason: WILDCARD_REASON }]))
      .toThrow(/AwsSolutions-IAM5\[Resource::\*\] at Test\/Role\/DefaultPolicy\/Resource/);
  });

  test('fails when appliesTo names another finding id, and reports the stale entry', () => {
    const { stack } = stackWithWildcardRole();

    expect(() => expectNoUnacknowledgedNagFindings(stack, [
      { ruleId: 'AwsSolutions-IAM5', appliesTo: ['Action::ecs:*'], reason: WILDCARD_REASON },
    ])).toThrow(/AwsSolutions-IAM5\[Resource::\*\][\s\S]*AwsSolutions-IAM5: matched no finding/);
  });

  test('fails on an acknowledgement that matches nothing', () => {
    const { stack } = stackWithWildcardRole();

    expect(() => expectNoUnacknowledgedNagFindings(stack, [
      { ruleId: 'AwsSolutions-IAM5', reason: WILDCARD_REASON },
      { ruleId: 'AwsSolutions-IAM4', scope: 'Role', reason: 'no managed policies here any more' },
    ])).toThrow(/^1 acknowledgement\(s\) matched no finding; remove them:\n {2}- AwsSolutions-IAM4 on Test\/Role: matched no finding/);
  });

  test('fails on an acknowledgement without a reason, or with a short one, listing all of them', () => {
    const { stack } = stackWithWildcardRole();
    const acks = [
      { ruleId: 'AwsSolutions-IAM5', reason: '' },
      { ruleId: 'AwsSolutions-IAM4', reason: '  needed   ' },
      { ruleId: 'AwsSolutions-L1' } as unknown as NagAcknowledgement,
    ];

    expect(() => expectNoUnacknowledgedNagFindings(stack, acks)).toThrow(new RegExp([
      'Invalid cdk-nag acknowledgements:',
      '  - acknowledgements\\[0\\] \\(AwsSolutions-IAM5\\): reason "" is 0 characters; write why the finding is acceptable in at least 20 characters',
      '  - acknowledgements\\[1\\] \\(AwsSolutions-IAM4\\): reason "  needed   " is 6 characters[^\\n]*',
      '  - acknowledgements\\[2\\] \\(AwsSolutions-L1\\): reason null is 0 characters',
    ].join('\n')));
  });
});

describe('validateNagAcknowledgements', () => {
  test('fails on an empty rule id, an empty appliesTo and an empty scope', () => {
    expect(() => validateNagAcknowledgements([
      { ruleId: '', reason: WILDCARD_REASON },
      { ruleId: 'AwsSolutions-IAM5', appliesTo: [], reason: WILDCARD_REASON },
      { ruleId: 'AwsSolutions-IAM5', scope: '', reason: WILDCARD_REASON },
    ])).toThrow(/ruleId is empty[\s\S]*appliesTo is an empty list[\s\S]*scope is an empty string/);
  });

  test('accepts a written reason', () => {
    expect(() => validateNagAcknowledgements([{ ruleId: 'AwsSolutions-IAM5', reason: WILDCARD_REASON }])).not.toThrow();
  });
});

describe('reviewNagFindings', () => {
  test('splits findings without failing, for summaries', () => {
    const { stack } = stackWithWildcardRole();
    const findings = collectNagFindings(stack);

    const review = reviewNagFindings(stack, findings, [{ ruleId: 'AwsSolutions-IAM4', reason: 'stale acknowledgement kept for the test' }]);

    expect(review.unacknowledged).toEqual(findings);
    expect(review.acknowledged).toEqual([]);
    expect(review.unused).toEqual(['AwsSolutions-IAM4: matched no finding (reason: "stale acknowledgement kept for the test")']);
  });
});

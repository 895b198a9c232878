/**
 * How a construct's acknowledgements reach cdk-nag 3 with each kind of aws-cdk-lib `Validations`:
 * - 2.257.0 to 2.268.0 refuse an acknowledgement id with more than one `::` (every granular finding on an ARN with a
 *   pseudo parameter: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:...]`), which threw in every construct;
 * - 2.269.0 and later read `::` inside brackets as part of the id.
 * The two stand-ins below do what those releases' `acknowledge()` does (aws-cdk-lib's core/lib/validation/validations.ts
 * of 2.257.0 and 2.269.0); `cdkNag3Acknowledged` reads the metadata the way cdk-nag 3.0.2's `NagPack.isAcknowledged`
 * does. The consumer tests run the same constructs on the real releases with cdk-nag 3.
 */
import * as cdk from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { acknowledgeForCdkNag3, acknowledgeNagFinding } from '../../src/common/nag';

const KEY = 'aws:cdk:acknowledged-rules';
const CONTAINER_INSTANCES = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:container-instance/*]';
const EVERYTHING = 'AwsSolutions-IAM5[Resource::*]';
const TRACING = 'Serverless-LambdaTracing';

/** `Validations.acknowledge()` of aws-cdk-lib 2.257.0 to 2.268.0: `qualifyId` splits on every `::`. */
class StrictValidations {
  static readonly ACKNOWLEDGED_RULES_METADATA_KEY = KEY;
  static calls = 0;
  static of(scope: IConstruct) {
    StrictValidations.calls++;
    return new StrictValidations(scope);
  }
  private constructor(private readonly scope: IConstruct) {}
  acknowledge(...rules: Array<{ id: string; reason: string }>): void {
    for (const { id, reason } of rules) {
      const parts = id.split('::');
      if (parts.length > 2 || (parts.length === 2 && parts[0].length === 0)) {
        throw new Error(`Invalid validation rule ID '${id}'. The '::' delimiter is reserved for separating the prefix from the rule name (e.g. 'prefix::RuleName').`);
      }
      this.scope.node.addMetadata(KEY, { [parts.length === 2 ? id : `Annotation::${id}`]: reason });
    }
  }
}

/** `Validations.acknowledge()` of aws-cdk-lib 2.269.0 and later: `::` inside brackets belongs to the id. */
class LenientValidations {
  static readonly ACKNOWLEDGED_RULES_METADATA_KEY = KEY;
  static of(scope: IConstruct) {
    return new LenientValidations(scope);
  }
  private constructor(private readonly scope: IConstruct) {}
  acknowledge(...rules: Array<{ id: string; reason: string }>): void {
    for (const { id, reason } of rules) {
      let depth = 0;
      let separator: number | undefined;
      for (let i = 0; i < id.length; i++) {
        if ('[({'.includes(id[i])) {
          depth++;
        } else if (')]}'.includes(id[i])) {
          depth--;
        } else if (id[i] === ':' && id[i + 1] === ':' && depth === 0) {
          if (separator !== undefined) throw new Error(`Invalid validation rule ID '${id}'. The '::' delimiter is reserved`);
          separator = i++;
        }
      }
      this.scope.node.addMetadata(KEY, { [separator === undefined ? `Annotation::${id}` : id]: reason });
    }
  }
}

/** The ids cdk-nag 3.0.2 finds acknowledged on a resource: its own and its scopes' metadata, `annotation::` stripped. */
function cdkNag3Acknowledged(resource: IConstruct): string[] {
  return resource.node.scopes.flatMap((scope) => scope.node.metadata
    .filter((entry) => entry.type === KEY)
    .flatMap((entry) => Object.keys(entry.data).map((id) => id.replace(/^annotation::/i, ''))));
}

/** The keys of the acknowledgement metadata as written, on the resource itself. */
function writtenKeys(resource: IConstruct): string[] {
  return resource.node.metadata.filter((entry) => entry.type === KEY).flatMap((entry) => Object.keys(entry.data));
}

function resourceInAStack(): cdk.CfnResource {
  const stack = new cdk.Stack(new cdk.App(), 'Stack');
  return new cdk.CfnResource(stack, 'Policy', { type: 'AWS::IAM::Policy' });
}

describe('with the Validations of aws-cdk-lib 2.257.0 to 2.268.0', () => {
  test('a granular id with several :: is recorded where cdk-nag 3 reads it, instead of throwing', () => {
    const resource = resourceInAStack();

    acknowledgeForCdkNag3(StrictValidations, resource, [CONTAINER_INSTANCES, EVERYTHING, TRACING], 'deliberate');

    expect(cdkNag3Acknowledged(resource).sort()).toEqual([CONTAINER_INSTANCES, EVERYTHING, TRACING].sort());
  });

  test('ids with :: are written verbatim (no release would read their first part as a namespace); the others go through acknowledge()', () => {
    const resource = resourceInAStack();

    acknowledgeForCdkNag3(StrictValidations, resource, [CONTAINER_INSTANCES, EVERYTHING, TRACING], 'deliberate');

    expect(writtenKeys(resource)).toEqual([CONTAINER_INSTANCES, EVERYTHING, `Annotation::${TRACING}`]);
    expect(resource.node.metadata.filter((entry) => entry.type === KEY).map((entry) => entry.data))
      .toEqual([{ [CONTAINER_INSTANCES]: 'deliberate' }, { [EVERYTHING]: 'deliberate' }, { [`Annotation::${TRACING}`]: 'deliberate' }]);
  });

  test('the strictness is tried once per Validations class, on a construct outside the app', () => {
    const resource = resourceInAStack();
    acknowledgeForCdkNag3(StrictValidations, resource, [CONTAINER_INSTANCES], 'deliberate');
    const callsAfterFirst = StrictValidations.calls;

    acknowledgeForCdkNag3(StrictValidations, resource, [CONTAINER_INSTANCES, EVERYTHING], 'deliberate');

    expect(StrictValidations.calls).toBe(callsAfterFirst);
    expect(resource.node.root.node.findAll().map((c) => c.node.path)).toEqual(['', 'Stack', 'Stack/Policy']);
  });
});

describe('with the Validations of aws-cdk-lib 2.269.0 and later', () => {
  test('every id goes through acknowledge(), and cdk-nag 3 reads each', () => {
    const resource = resourceInAStack();

    acknowledgeForCdkNag3(LenientValidations, resource, [CONTAINER_INSTANCES, EVERYTHING, TRACING], 'deliberate');

    expect(writtenKeys(resource)).toEqual([`Annotation::${CONTAINER_INSTANCES}`, `Annotation::${EVERYTHING}`, `Annotation::${TRACING}`]);
    expect(cdkNag3Acknowledged(resource).sort()).toEqual([CONTAINER_INSTANCES, EVERYTHING, TRACING].sort());
  });
});

describe('acknowledgeNagFinding on the aws-cdk-lib floor (2.224.0, no Validations)', () => {
  test('writes the cdk_nag metadata for cdk-nag 2, finding by finding, and nothing for cdk-nag 3', () => {
    expect((cdk as unknown as Record<string, unknown>).Validations).toBeUndefined();
    const resource = resourceInAStack();

    acknowledgeNagFinding(resource, 'AwsSolutions-IAM5', 'deliberate', ['Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:container-instance/*']);
    acknowledgeNagFinding(resource, TRACING, 'off by default');

    expect(resource.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        { id: 'AwsSolutions-IAM5', reason: 'deliberate', applies_to: ['Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:container-instance/*'] },
        { id: TRACING, reason: 'off by default' },
      ],
    });
    expect(writtenKeys(resource)).toEqual([]);
  });
});

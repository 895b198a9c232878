import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * A construct acknowledges its own deliberate cdk-nag findings on its own resources, so that a user's app
 * finds nothing to acknowledge, with either cdk-nag:
 * - cdk-nag 2.x reads `cdk_nag` metadata (`rules_to_suppress`) on the CloudFormation resource, where it is
 *   also visible in the synthesized template; it is written with every aws-cdk-lib;
 * - cdk-nag 3.x reads the acknowledgements that CDK's `Validations.of(scope).acknowledge({ id: 'Rule[finding]', reason })`
 *   records, which aws-cdk-lib has from 2.257.0 (see `acknowledgeForCdkNag3`); with an older aws-cdk-lib only the
 *   metadata is written.
 *
 * A granular rule (AwsSolutions-IAM5) is acknowledged finding by finding, never as a whole.
 */
export function acknowledgeNagFinding(scope: IConstruct, rule: string, reason: string, findings?: readonly string[]): void {
  const resource = cfnResourceOf(scope);
  if (findings !== undefined && findings.length === 0) return;
  const existing: unknown[] = resource.getMetadata(CDK_NAG_METADATA)?.rules_to_suppress ?? [];
  const entry = { id: rule, reason, ...(findings ? { applies_to: [...findings] } : {}) };
  const rules = [...new Map([...existing, entry].map((r) => [JSON.stringify(r), r])).values()];
  resource.addMetadata(CDK_NAG_METADATA, { rules_to_suppress: rules });

  const validations = (cdk as unknown as { Validations?: ValidationsApi }).Validations;
  if (validations) {
    acknowledgeForCdkNag3(validations, resource, findings ? findings.map((finding) => `${rule}[${finding}]`) : [rule], reason);
  }
}

/**
 * Records acknowledgements where cdk-nag 3 reads them: the `aws:cdk:acknowledged-rules` metadata
 * (`Validations.ACKNOWLEDGED_RULES_METADATA_KEY`) of the resource or one of its scopes, keyed by the finding's id,
 * with or without the `annotation::` prefix that `acknowledge()` adds to an id without a namespace.
 *
 * A granular finding's id holds `::` (`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:...]`), which
 * `acknowledge()` also reads as its `namespace::rule` separator. aws-cdk-lib 2.257.0 to 2.268.0 refuse an id with
 * more than one `::` ("The '::' delimiter is reserved for separating the prefix from the rule name"), and take the
 * part before a single `::` for a namespace; 2.269.0 and later read `::` inside brackets as part of the id. Where
 * `acknowledge()` does not take `::` inside brackets (found by trying it once, on a construct of its own), an id
 * with `::` is recorded in that metadata directly, as `acknowledge()` of 2.269.0 would record it and as cdk-nag 3
 * reads it (the workaround given in cdklabs/cdk-nag#2359). Any other id goes through `acknowledge()`.
 *
 * Exported for its unit test; src/index.ts does not export it.
 */
export function acknowledgeForCdkNag3(validations: ValidationsApi, resource: IConstruct, ids: readonly string[], reason: string): void {
  for (const id of ids) {
    if (id.includes('::') && !takesDelimiterInBrackets(validations)) {
      resource.node.addMetadata(validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
    } else {
      validations.of(resource).acknowledge({ id, reason });
    }
  }
}

/** Whether a `Validations` class takes `::` inside brackets in an acknowledgement id, tried once per class. */
function takesDelimiterInBrackets(validations: ValidationsApi): boolean {
  let takes = DELIMITER_IN_BRACKETS.get(validations);
  if (takes === undefined) {
    // A root construct of its own, outside every app: what the trial records there is never synthesized.
    const trial = new Construct(undefined as unknown as Construct, 'cdk-ecs-ops-acknowledgement-trial');
    try {
      validations.of(trial).acknowledge({ id: 'Trial-Rule[Kind::arn:<AWS::Partition>:service]', reason: 'whether ids with :: inside brackets are taken' });
      takes = true;
    } catch {
      takes = false;
    }
    DELIMITER_IN_BRACKETS.set(validations, takes);
  }
  return takes;
}

const DELIMITER_IN_BRACKETS = new WeakMap<ValidationsApi, boolean>();

/**
 * Acknowledges AwsSolutions-IAM5 for the wildcard resources of `statement`, as cdk-nag names them
 * (`Resource::arn:<AWS::Partition>:ecs:...:container-instance/prod/*`), on the policy that holds it.
 */
export function acknowledgeWildcardResources(policy: IConstruct, statement: iam.PolicyStatement, reason: string): void {
  const stack = Stack.of(policy);
  const findings = statement.resources
    .map((resource) => `Resource::${flattenCfnReference(stack.resolve(resource))}`)
    .filter((finding) => finding.includes('*'));
  acknowledgeNagFinding(policy, 'AwsSolutions-IAM5', reason, [...new Set(findings)]);
}

/** The default policy of a role (created by its first statement), where grants to a function's role go. */
export function defaultPolicyOf(role: iam.IRole): IConstruct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`role ${role.node.path} has no default policy yet; add its statements first`);
  return policy;
}

const CDK_NAG_METADATA = 'cdk_nag';

/** The part of aws-cdk-lib's `Validations` (2.257.0 and later) used here; the floor of this library has none. */
export interface ValidationsApi {
  readonly ACKNOWLEDGED_RULES_METADATA_KEY: string;
  of(scope: IConstruct): { acknowledge(...rules: Array<{ id: string; reason: string }>): void };
}

function cfnResourceOf(scope: IConstruct): CfnResource {
  const resource = CfnResource.isCfnResource(scope) ? scope : scope.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) {
    throw new Error(`cdk-nag acknowledgement: ${scope.node.path} is not a CloudFormation resource`);
  }
  return resource;
}

/**
 * A resolved CloudFormation value as one string, the way cdk-nag writes it in a finding: `Fn::Join` joined,
 * `Ref` as `<Name>`, `Fn::GetAtt` as `<Name.Attribute>`, `${X}` in `Fn::Sub` as `<X>`.
 */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\${/g, '<').replace(/}/g, '>');
  const node = value as Record<string, any>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return (items as unknown[]).map(flattenCfnReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenCfnReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenCfnReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenCfnReference(node.Ref)}>`;
  return JSON.stringify(value);
}

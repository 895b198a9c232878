/**
 * Ask an IAM policy simulator what a role in a synthesized stack may do.
 *
 * ```ts
 * const sim = await IamSimulator.forRole(stack, monitor.handler.role!);
 * await expectAllowed(sim, [{
 *   action: 'ecs:DescribeContainerInstances',
 *   resource: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123',
 *   context: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' },
 * }]);
 * await expectDenied(sim, [{ action: 'ecs:DescribeContainerInstances', resource: '...:container-instance/other/0123', context: { ... } }]);
 * ```
 *
 * The role's inline policies, the `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources attached to it, its managed policy ARNs
 * and its permissions boundary are collected from the template, their
 * intrinsics resolved to the values they would have after deployment (see
 * {@link IntrinsicResolver}), and each request is evaluated by
 * `@cloud-copilot/iam-simulate` against those identity policies.
 *
 * Not modelled: resource policies (KMS key policies, bucket policies, ...),
 * SCPs, session policies and cross-account trust. Requests are made from the
 * role's own account.
 *
 * @module
 */
import {
  getDenialReasons,
  getGrantReasons,
  runSimulation,
  type RequestAnalysis,
  type RunSimulationResults,
  type Simulation,
} from '@cloud-copilot/iam-simulate';
import { Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { CfnResourceJson, CfnTemplate, DeploymentEnvironment, IntrinsicResolver, ResolvedValue } from './iam/intrinsics';

export { IntrinsicResolver, UnresolvableIntrinsicError, MODELLED_RESOURCE_TYPES } from './iam/intrinsics';
export type { CfnTemplate, DeploymentEnvironment, ResolvedValue } from './iam/intrinsics';

/** An IAM policy document with its intrinsics resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: unknown[];
  readonly [key: string]: unknown;
}

/** A policy the role has, named for error messages and explanations. */
export interface RolePolicy {
  /** Where it came from: `RoleDefaultPolicy` (AWS::IAM::Policy), `Role.Policies[Inline]`, a managed policy ARN, ... */
  readonly name: string;
  /** The resolved document. */
  readonly document: PolicyDocument;
}

/** Options of {@link IamSimulator.forRole}: the deployment environment and the values the template cannot supply. */
export interface IamSimulatorOptions extends DeploymentEnvironment {
  /**
   * Documents of managed policies that are not in the template (AWS managed
   * policies), by ARN with the partition written out
   * (`arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`).
   * A managed policy ARN with neither a document here nor a built-in one fails
   * {@link IamSimulator.forRole}.
   * @default - only the built-in AWSLambdaBasicExecutionRole document
   */
  readonly managedPolicies?: Record<string, PolicyDocument>;
}

/** One request to evaluate. */
export interface IamRequest {
  /** The action, e.g. `ecs:DescribeContainerInstances`. */
  readonly action: string;
  /**
   * The resource ARN; must be of a resource type the action supports.
   * @default '*' (for actions that only support all resources)
   */
  readonly resource?: string;
  /**
   * Request context, e.g. `{ 'ecs:cluster': 'arn:aws:ecs:...:cluster/prod' }`. Overrides the
   * default global keys. A service key the action does not support is an error, so a typo cannot make a test pass.
   * @default - the global keys only (see {@link IamSimulator.globalContext})
   */
  readonly context?: Record<string, string | string[]>;
  /**
   * The resource's own policy (a KMS key policy, a bucket policy), resolved. KMS honours the role's policies only
   * when the key policy trusts the account, so a request on a key needs its key policy.
   * @default - none
   */
  readonly resourcePolicy?: PolicyDocument;
}

/** Each request once: a scenario makes the same call many times, the simulator needs to decide it once. */
export function distinctRequests(requests: readonly IamRequest[]): IamRequest[] {
  return [...new Map(requests.map((r) => [JSON.stringify(r), r])).values()];
}

/**
 * The same request moved from the clusters `from` to the cluster `to`: the cluster's ARN (in the resource and in the
 * `ecs:cluster` key) and the ARNs of its tasks, container instances and services.
 */
export function inOtherCluster(request: IamRequest, from: readonly string[], to = 'other'): IamRequest {
  let json = JSON.stringify(request);
  for (const name of from) {
    json = json.split(`:cluster/${name}"`).join(`:cluster/${to}"`);
    for (const type of ['task', 'container-instance', 'service']) json = json.split(`:${type}/${name}/`).join(`:${type}/${to}/`);
  }
  return JSON.parse(json);
}

/** What the simulator decided for one request. */
export interface IamDecision {
  readonly request: IamRequest;
  /** `Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied`. */
  readonly result: string;
  readonly allowed: boolean;
  /** Readable explanation: which statements granted or denied it, and why the others did not apply. */
  readonly explanation: string;
}

/** What iam-simulate's error codes mean for the caller. */
const SIMULATOR_ERROR_HINTS: Record<string, string> = {
  'invalid.service': ' (no such service prefix)',
  'invalid.action': ' (no such action in the service)',
  'must.use.wildcard': ' (the action only supports resource "*"; leave resource out)',
  'no.resource.types': ' (the resource ARN is of no resource type the action supports; see the Service Authorization Reference)',
  'multiple.resource.types': ' (the resource ARN matches more than one resource type of the action)',
  'policy.errors': ' (a policy is not valid IAM)',
};

type StatementAnalysis = NonNullable<RequestAnalysis['identityAnalysis']>['unmatchedStatements'][number];

/** Known AWS managed policies, so the common Lambda role needs no options. */
const BUILT_IN_MANAGED_POLICIES: Record<string, PolicyDocument> = {
  'iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

/**
 * Evaluates requests against the identity policies of one role of a template.
 * Create it with {@link IamSimulator.forRole}.
 */
export class IamSimulator {
  /**
   * Collect and resolve the policies of a role, and check them with the simulator's policy validator.
   *
   * @param source the stack (synthesized here; its account and region, when concrete, are the defaults), its `Template`, or the template JSON
   * @param role the role's logical id, or the role construct (an `iam.Role`, its `CfnRole`,
   *   or a grantable whose principal is one, such as a `lambda.Function`)
   * @param options the deployment environment and outside values
   * @throws if the role is not in the template, a policy cannot be resolved
   *   (naming the intrinsic), or a resolved policy is not valid IAM
   * @example const sim = await IamSimulator.forRole(stack, fn, { region: 'eu-west-1' });
   */
  public static async forRole(
    source: Stack | Template | CfnTemplate, role: string | IConstruct, options: IamSimulatorOptions = {},
  ): Promise<IamSimulator> {
    const stack = Stack.isStack(source) ? source : undefined;
    const template: CfnTemplate = stack
      ? Template.fromStack(stack).toJSON()
      : source instanceof Template ? source.toJSON() : source as CfnTemplate;
    const roleLogicalId = typeof role === 'string' ? role : logicalIdOfRole(role, stack);
    const resolver = new IntrinsicResolver(template, { ...(stack ? environmentOf(stack) : {}), ...options });
    const collected = collectRolePolicies(template, roleLogicalId, resolver, options.managedPolicies ?? {});
    const sim = new IamSimulator(roleLogicalId, resolver, collected.policies, collected.boundaries);
    await sim.validatePolicies();
    return sim;
  }

  /** ARN of the role, as `Fn::GetAtt Role.Arn` resolves. */
  public readonly roleArn: string;
  /** ARN of the role session the requests are made from. */
  public readonly principalArn: string;
  /** Account the role (and every request) is in. */
  public readonly account: string;

  private constructor(
    /** Logical id of the role in the template. */
    public readonly roleLogicalId: string,
    private readonly resolver: IntrinsicResolver,
    /** The role's identity policies, resolved. */
    public readonly policies: readonly RolePolicy[],
    /** The role's permissions boundary, if it has one. */
    public readonly permissionsBoundary: readonly RolePolicy[],
  ) {
    this.account = resolver.account;
    this.roleArn = resolver.resolveString({ 'Fn::GetAtt': [roleLogicalId, 'Arn'] }, `${roleLogicalId}.Arn`);
    const roleName = resolver.resolveString({ Ref: roleLogicalId }, `Ref ${roleLogicalId}`);
    this.principalArn = `arn:${resolver.partition}:sts::${this.account}:assumed-role/${roleName}/test-session`;
  }

  /**
   * Global condition keys every request carries, as AWS sets them for a role
   * session in the role's own account (`aws:PrincipalArn` is the role ARN).
   */
  public get globalContext(): Record<string, string> {
    return {
      'aws:PrincipalArn': this.roleArn,
      'aws:PrincipalAccount': this.account,
      'aws:PrincipalType': 'AssumedRole',
      'aws:userid': `${this.resolver.resolveString({ 'Fn::GetAtt': [this.roleLogicalId, 'RoleId'] }, 'RoleId')}:test-session`,
      'aws:RequestedRegion': this.resolver.region,
      'aws:SecureTransport': 'true',
      'aws:PrincipalIsAWSService': 'false',
      'aws:ViaAWSService': 'false',
    };
  }

  /**
   * Resolve a template expression with the same environment as the policies,
   * e.g. a construct's token: `sim.resolve(stack.resolve(table.tableArn))`.
   * @example const tableArn = sim.resolve(stack.resolve(table.tableArn)) as string;
   */
  public resolve(value: unknown): ResolvedValue {
    return this.resolver.resolve(value, 'IamSimulator.resolve()');
  }

  /**
   * Whether the role's policies allow the request.
   * @example expect(await sim.isAllowed({ action: 'dynamodb:UpdateItem', resource: tableArn })).toBe(true);
   */
  public async isAllowed(request: IamRequest): Promise<boolean> {
    return (await this.evaluate(request)).allowed;
  }

  /**
   * A readable account of the decision.
   * @example console.log(await sim.explain({ action: 'secretsmanager:GetSecretValue', resource: secretArn }));
   */
  public async explain(request: IamRequest): Promise<string> {
    return (await this.evaluate(request)).explanation;
  }

  /**
   * Evaluate one request.
   * @throws if the simulator rejects the request (unknown action, resource type
   *   the action does not support, context key the action does not support)
   * @example const { allowed, explanation } = await sim.evaluate({ action: 'sns:Publish', resource: topicArn });
   */
  public async evaluate(request: IamRequest): Promise<IamDecision> {
    const resource = request.resource ?? '*';
    const simulation: Simulation = {
      request: {
        principal: this.principalArn,
        action: request.action,
        resource: { resource, accountId: accountOf(resource) ?? this.account },
        contextVariables: { ...this.globalContext, ...request.context },
      },
      identityPolicies: this.policies.map((p) => ({ name: p.name, policy: p.document })),
      permissionBoundaryPolicies: this.permissionsBoundary.length > 0
        ? this.permissionsBoundary.map((p) => ({ name: p.name, policy: p.document }))
        : undefined,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: request.resourcePolicy,
    };
    const response = await runSimulation(simulation, { simulationMode: 'Strict' });
    if (response.resultType === 'error') {
      const hint = SIMULATOR_ERROR_HINTS[response.errors.message] ?? '';
      throw new Error(`iam-simulate rejected ${describeRequest(request)}: ${response.errors.message}${hint}\n${JSON.stringify(response.errors, null, 2)}`);
    }
    const ignored = ignoredKeys(response).filter((key) => request.context && key in request.context);
    if (ignored.length > 0) {
      throw new Error(`${describeRequest(request)}: context key(s) ${ignored.join(', ')} do not apply to ${request.action} `
        + 'on this resource type, so the simulator ignored them; fix the key or the resource');
    }
    const allowed = response.overallResult === 'Allowed';
    return { request, result: response.overallResult, allowed, explanation: explainResponse(request, response) };
  }

  private async validatePolicies(): Promise<void> {
    // sts:GetCallerIdentity needs no permission-specific resource; the run only validates the policies.
    const probe: Simulation = {
      request: { principal: this.principalArn, action: 'sts:GetCallerIdentity', resource: { resource: '*', accountId: this.account }, contextVariables: {} },
      identityPolicies: this.policies.map((p) => ({ name: p.name, policy: p.document })),
      permissionBoundaryPolicies: this.permissionsBoundary.map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    };
    const response = await runSimulation(probe, {});
    if (response.resultType === 'error' && (response.errors.identityPolicyErrors || response.errors.permissionBoundaryErrors)) {
      throw new Error(`The resolved policies of ${this.roleLogicalId} are not valid IAM: ${response.errors.message}\n`
        + JSON.stringify({ identity: response.errors.identityPolicyErrors, boundary: response.errors.permissionBoundaryErrors }, null, 2));
    }
  }
}

/**
 * Evaluate every request and fail, listing each one that is not allowed with its explanation.
 * @example await expectAllowed(sim, [{ action: 'dynamodb:UpdateItem', resource: tableArn }]);
 */
export async function expectAllowed(sim: IamSimulator, requests: readonly IamRequest[]): Promise<void> {
  await expectDecisions(sim, requests, true);
}

/**
 * Evaluate every request and fail, listing each one that is allowed with the statements that allow it.
 * @example await expectDenied(sim, [{ action: 'dynamodb:UpdateItem', resource: otherTableArn }]);
 */
export async function expectDenied(sim: IamSimulator, requests: readonly IamRequest[]): Promise<void> {
  await expectDecisions(sim, requests, false);
}

async function expectDecisions(sim: IamSimulator, requests: readonly IamRequest[], expected: boolean): Promise<void> {
  if (requests.length === 0) {
    throw new Error(`expect${expected ? 'Allowed' : 'Denied'}: no requests given, so nothing would be checked`);
  }
  const decisions: IamDecision[] = [];
  for (const request of requests) {
    decisions.push(await sim.evaluate(request));
  }
  const wrong = decisions.filter((d) => d.allowed !== expected);
  if (wrong.length > 0) {
    throw new Error(`${wrong.length} of ${requests.length} request(s) for role ${sim.roleLogicalId} were `
      + `${expected ? 'not allowed' : 'allowed'}, expected ${expected ? 'allowed' : 'denied'}:\n\n`
      + wrong.map((d) => d.explanation).join('\n\n'));
  }
}

/** The stack's concrete account, region and name, used unless the options say otherwise. */
function environmentOf(stack: Stack): DeploymentEnvironment {
  const concrete = (value: string) => (Token.isUnresolved(value) ? undefined : value);
  return { account: concrete(stack.account), region: concrete(stack.region), stackName: concrete(stack.stackName) };
}

/**
 * Find the logical id of a role construct in its stack.
 */
function logicalIdOfRole(role: IConstruct, stack: Stack | undefined): string {
  const cfn = findCfnRole(role);
  if (!cfn) {
    throw new Error(`${role.node.path} is not a role defined in a stack (nor a grantable whose principal is one); `
      + 'an imported role has no policies in the template. Pass the role\'s logical id instead.');
  }
  const roleStack = Stack.of(cfn);
  if (stack && roleStack !== stack) {
    throw new Error(`Role ${cfn.node.path} is in stack ${roleStack.node.path}, not in ${stack.node.path}`);
  }
  return roleStack.resolve(cfn.logicalId) as string;
}

function findCfnRole(construct: IConstruct, depth = 0): iam.CfnRole | undefined {
  if (construct instanceof iam.CfnRole) return construct;
  const child = construct.node.defaultChild;
  if (child instanceof iam.CfnRole) return child;
  const principal = (construct as Partial<iam.IGrantable>).grantPrincipal;
  if (depth < 2 && principal && (principal as unknown) !== construct && isConstruct(principal)) {
    return findCfnRole(principal, depth + 1);
  }
  return undefined;
}

function isConstruct(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && 'node' in x;
}

interface CollectedPolicies {
  readonly policies: RolePolicy[];
  readonly boundaries: RolePolicy[];
}

/**
 * Gather every identity policy of the role from the template, resolving as it goes.
 */
function collectRolePolicies(
  template: CfnTemplate, roleLogicalId: string, resolver: IntrinsicResolver, managedPolicies: Record<string, PolicyDocument>,
): CollectedPolicies {
  const resources = template.Resources ?? {};
  const role = resources[roleLogicalId];
  if (!role || role.Type !== 'AWS::IAM::Role') {
    const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
    throw new Error(`${roleLogicalId} is ${role ? `a ${role.Type}` : 'not in the template'}, not an AWS::IAM::Role; roles in the template: ${roles.join(', ') || 'none'}`);
  }
  const roleName = resolver.resolveString({ Ref: roleLogicalId }, `Ref ${roleLogicalId}`);
  const props = role.Properties ?? {};
  const policies: RolePolicy[] = [];
  const document = (value: unknown, location: string) => asPolicyDocument(resolver.resolve(value, location), location);

  // Inline policies of the role itself.
  asArray(props.Policies).forEach((p, i) => {
    const inline = p as { PolicyName?: unknown; PolicyDocument?: unknown };
    const name = resolver.resolveString(inline.PolicyName ?? `Policy${i}`, `${roleLogicalId}.Properties.Policies[${i}].PolicyName`);
    policies.push({ name: `${roleLogicalId}.Policies[${name}]`, document: document(inline.PolicyDocument, `Resources.${roleLogicalId}.Properties.Policies[${i}].PolicyDocument`) });
  });

  // Managed policies in the template, by the ARN a Ref to them resolves to.
  const templateManaged = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') templateManaged.set(resolver.resolveString({ Ref: id }, `Ref ${id}`), id);
  }
  const attachedManaged = new Set<string>();

  // Policies that name the role in `Roles` (AWS::IAM::Policy, AWS::IAM::ManagedPolicy) or `RoleName` (AWS::IAM::RolePolicy).
  for (const [id, r] of Object.entries(resources)) {
    if (!attachesTo(r, id, roleLogicalId, roleName, resolver)) continue;
    if (r.Type === 'AWS::IAM::ManagedPolicy') attachedManaged.add(id);
    policies.push({ name: id, document: document(r.Properties?.PolicyDocument, `Resources.${id}.Properties.PolicyDocument`) });
  }

  const lookUpManaged = (policyArn: string, location: string): RolePolicy => {
    const id = templateManaged.get(policyArn);
    if (id) {
      return { name: id, document: document(resources[id].Properties?.PolicyDocument, `Resources.${id}.Properties.PolicyDocument`) };
    }
    const given = managedPolicies[policyArn];
    const builtIn = BUILT_IN_MANAGED_POLICIES[policyArn.replace(/^arn:[^:]+:/, '')];
    if (!given && !builtIn) {
      throw new Error(`${location}: managed policy ${policyArn} is not in the template and has no document; `
        + 'pass it in options.managedPolicies');
    }
    return { name: policyArn, document: given ?? builtIn };
  };

  asArray(props.ManagedPolicyArns).forEach((value, i) => {
    const location = `Resources.${roleLogicalId}.Properties.ManagedPolicyArns[${i}]`;
    const policyArn = resolver.resolveString(value, location);
    const id = templateManaged.get(policyArn);
    if (id && attachedManaged.has(id)) return; // attached both ways; count it once
    if (id) attachedManaged.add(id);
    policies.push(lookUpManaged(policyArn, location));
  });

  const boundaries: RolePolicy[] = [];
  if (props.PermissionsBoundary !== undefined) {
    const location = `Resources.${roleLogicalId}.Properties.PermissionsBoundary`;
    boundaries.push(lookUpManaged(resolver.resolveString(props.PermissionsBoundary, location), location));
  }
  return { policies, boundaries };
}

function attachesTo(resource: CfnResourceJson, id: string, roleLogicalId: string, roleName: string, resolver: IntrinsicResolver): boolean {
  const props = resource.Properties ?? {};
  if (resource.Type === 'AWS::IAM::RolePolicy') {
    return refersTo(props.RoleName, `Resources.${id}.Properties.RoleName`, roleLogicalId, roleName, resolver);
  }
  if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') return false;
  return asArray(props.Roles).some((entry, i) => refersTo(entry, `Resources.${id}.Properties.Roles[${i}]`, roleLogicalId, roleName, resolver));
}

function refersTo(entry: unknown, location: string, roleLogicalId: string, roleName: string, resolver: IntrinsicResolver): boolean {
  if (isRef(entry)) {
    return entry.Ref === roleLogicalId;
  }
  return resolver.resolve(entry, location) === roleName;
}

function isRef(x: unknown): x is { Ref: string } {
  return typeof x === 'object' && x !== null && Object.keys(x).length === 1 && typeof (x as { Ref?: unknown }).Ref === 'string';
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function asPolicyDocument(value: unknown, location: string): PolicyDocument {
  if (typeof value !== 'object' || value === null || !('Statement' in value)) {
    throw new Error(`${location}: expected a policy document with a Statement, got ${JSON.stringify(value)}`);
  }
  const doc = value as { Statement: unknown };
  return { ...(value as object), Statement: asArray(doc.Statement) } as PolicyDocument;
}

function accountOf(resource: string): string | undefined {
  const parts = resource.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && /^\d{12}$/.test(parts[4]) ? parts[4] : undefined;
}

function ignoredKeys(response: Exclude<RunSimulationResults, { resultType: 'error' }>): string[] {
  const results = response.resultType === 'single' ? [response.result] : response.results;
  return [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))];
}

function describeRequest(request: IamRequest): string {
  const context = Object.entries(request.context ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return `${request.action} on ${request.resource ?? '*'}${context ? ` with ${context}` : ''}`;
}

function explainResponse(request: IamRequest, response: Exclude<RunSimulationResults, { resultType: 'error' }>): string {
  const lines = [`${describeRequest(request)}: ${response.overallResult}`];
  const analyses: Array<{ label: string; analysis: RequestAnalysis }> = response.resultType === 'single'
    ? [{ label: '', analysis: response.result.analysis }]
    : response.results.map((r) => ({ label: `[${r.resourcePattern}] `, analysis: r.analysis }));
  if (analyses.length === 0) {
    lines.push('  no policy statement names a resource that matches this wildcard resource');
  }
  for (const { label, analysis } of analyses) {
    for (const grant of getGrantReasons(analysis)) {
      if (grant.policyType === 'identity') {
        lines.push(`  ${label}allowed by ${grant.policyIdentifier} statement ${grant.statementId ?? `#${grant.statementIndex}`}`);
      }
    }
    for (const denial of getDenialReasons(analysis)) {
      lines.push(denial.denialType === 'Explicit'
        ? `  ${label}explicitly denied by ${denial.policyIdentifier ?? denial.policyType} statement ${denial.statementId ?? `#${denial.statementIndex}`}`
        : `  ${label}implicitly denied by the ${denial.policyType === 'pb' ? 'permissions boundary' : `${denial.policyType} policies`}`);
    }
    const identity = analysis.identityAnalysis;
    const nearMisses = identity?.unmatchedStatements.filter((s) => s.actionMatch) ?? [];
    for (const s of nearMisses) {
      lines.push(`  ${label}${s.policyId} statement ${statementLabel(s)} names the action but does not apply: ${whyNot(s)}`);
    }
    if (identity && analysis.result !== 'Allowed' && nearMisses.length === 0 && identity.denyStatements.length === 0) {
      lines.push(`  ${label}no identity statement names ${request.action}`);
    }
  }
  return lines.join('\n');
}

function statementLabel(s: StatementAnalysis): string {
  return s.statement.sid() ?? `#${s.explain.identifier}`;
}

function whyNot(s: StatementAnalysis): string {
  const reasons: string[] = [];
  if (!s.resourceMatch) {
    const resources = [s.explain.resources ?? [], s.explain.notResources ?? []].flat();
    const patterns = resources.map((r) => r.resource).join(', ');
    reasons.push(`resource does not match ${patterns || 'its Resource/NotResource'}`);
  }
  if (s.conditionMatch !== 'Match') {
    const failed = (s.explain.conditions ?? []).filter((c) => !c.matches);
    reasons.push(failed.length === 0 ? 'condition does not match' : failed.map((c) => {
      const values = [c.values].flat().map((v) => v.value).join(', ');
      const actual = c.failedBecauseMissing ? 'the key is missing from the request' : `request has ${c.resolvedConditionKeyValue ?? 'another value'}`;
      return `condition ${c.operator} ${c.conditionKeyValue} [${values}] fails (${actual})`;
    }).join('; '));
  }
  return reasons.join('; ') || 'unknown reason';
}

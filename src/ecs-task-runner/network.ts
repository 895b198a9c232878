/**
 * Where an EcsTaskRunner's tasks run, checked at synth: whether a Fargate task in the chosen subnets can reach what
 * it needs to start (its image in ECR, whose layers are in S3; CloudWatch Logs for awslogs; Secrets Manager or SSM for
 * the task definition's secrets), and whether a security group given to the runner's functions is one the tasks'
 * side uses.
 *
 * What synth can know depends on where the VPC comes from:
 * - an `ec2.Vpc` of this app: every route of each subnet's route table (the ones CDK creates and any `CfnRoute` of the
 *   app on that table) and every VPC endpoint of the app in that VPC, so a subnet without a route out is known, and
 *   so are the endpoints it has;
 * - an imported VPC (`Vpc.fromLookup`, `Vpc.fromVpcAttributes`): only the subnet groups as the import declares them
 *   (public, private with egress, isolated), and no endpoints: a private subnet is taken to have its route out, an
 *   isolated one to have none, and its endpoints are unknown (a warning names them instead of an error);
 * - a subnet given by id alone (`Subnet.fromSubnetId`) in no group of the VPC: nothing, and nothing is checked.
 *
 * On EC2 (the EC2 launch type, container instances, EC2 capacity providers) the container instance pulls the image,
 * ships the logs and reads the secrets over its own network, so the tasks' subnets need no route out for that: only
 * Fargate tasks are checked.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** How a subnet reaches beyond its VPC, as far as synth can tell. */
export type SubnetReach = 'route-out' | 'internet-gateway' | 'none' | 'unknown';

/** The capacity providers that are Fargate. */
const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'];

/**
 * Whether a capacity provider strategy is Fargate's (true), EC2's (false), or not known (none, or both kinds). A name
 * that is a token is an Auto Scaling group's capacity provider of the app (`AsgCapacityProvider`): Fargate's have
 * literal names.
 */
export function isFargateStrategy(strategy: readonly ecs.CapacityProviderStrategy[] | undefined): boolean | undefined {
  if (!strategy || strategy.length === 0) return undefined;
  const names = strategy.map((s) => s.capacityProvider);
  if (names.every((n) => !Token.isUnresolved(n) && FARGATE_PROVIDERS.includes(n))) return true;
  if (names.every((n) => !FARGATE_PROVIDERS.includes(n))) return false;
  return undefined;
}

/** The default capacity provider strategy of a cluster of this app (`ecs.Cluster`); undefined for an imported one. */
export function clusterDefaultStrategy(cluster: ecs.ICluster): ecs.CapacityProviderStrategy[] | undefined {
  const strategy = (cluster as { defaultCapacityProviderStrategy?: unknown }).defaultCapacityProviderStrategy;
  return Array.isArray(strategy) ? strategy as ecs.CapacityProviderStrategy[] : undefined;
}

/** Whether the VPC is defined in this app, so that its routes and endpoints can be read. */
export function isVpcOfThisApp(vpc: ec2.IVpc): boolean {
  return vpc.node.defaultChild instanceof ec2.CfnVPC;
}

/** Every construct of the app of `scope`. */
function appConstructs(scope: IConstruct): IConstruct[] {
  return scope.node.root.node.findAll();
}

function resolved(scope: IConstruct, value: unknown): string {
  return JSON.stringify(Stack.of(scope).resolve(value));
}

/** How each subnet reaches beyond its VPC: from its route table (a VPC of this app) or its declared group (imported). */
export function subnetReach(vpc: ec2.IVpc, subnets: readonly ec2.ISubnet[]): Map<ec2.ISubnet, SubnetReach> {
  const reach = new Map<ec2.ISubnet, SubnetReach>();
  if (isVpcOfThisApp(vpc)) {
    const all = appConstructs(vpc);
    const routes = all.filter((c): c is ec2.CfnRoute => c instanceof ec2.CfnRoute);
    const gateways = new Set(all.filter((c): c is ec2.CfnInternetGateway => c instanceof ec2.CfnInternetGateway).map((g) => resolved(vpc, g.ref)));
    for (const subnet of subnets) {
      const table = resolved(vpc, subnet.routeTable.routeTableId);
      const defaults = routes.filter((r) => r.destinationCidrBlock === '0.0.0.0/0' && resolved(vpc, r.routeTableId) === table);
      const viaGateway = (r: ec2.CfnRoute) => r.gatewayId !== undefined
        && (gateways.has(resolved(vpc, r.gatewayId)) || (!Token.isUnresolved(r.gatewayId) && r.gatewayId.startsWith('igw-')));
      reach.set(subnet, defaults.some((r) => !viaGateway(r)) ? 'route-out' : defaults.length > 0 ? 'internet-gateway' : 'none');
    }
    return reach;
  }
  const ids = (list: readonly ec2.ISubnet[]) => new Set(list.map((s) => s.subnetId));
  const [publicIds, privateIds, isolatedIds] = [ids(vpc.publicSubnets), ids(vpc.privateSubnets), ids(vpc.isolatedSubnets)];
  for (const subnet of subnets) {
    const id = subnet.subnetId;
    reach.set(subnet, privateIds.has(id) ? 'route-out' : publicIds.has(id) ? 'internet-gateway' : isolatedIds.has(id) ? 'none' : 'unknown');
  }
  return reach;
}

/** An endpoint a Fargate task may need, and how to add it to an `ec2.Vpc`. */
interface Endpoint {
  /** The end of its service name (`com.amazonaws.<region>.<suffix>`). */
  readonly suffix: string;
  readonly name: string;
  readonly add: string;
}

export const TASK_ENDPOINTS = {
  ecrApi: { suffix: 'ecr.api', name: 'ECR (ecr.api)', add: 'vpc.addInterfaceEndpoint(\'EcrApi\', { service: InterfaceVpcEndpointAwsService.ECR })' },
  ecrDkr: { suffix: 'ecr.dkr', name: 'ECR Docker (ecr.dkr)', add: 'vpc.addInterfaceEndpoint(\'EcrDkr\', { service: InterfaceVpcEndpointAwsService.ECR_DOCKER })' },
  s3: { suffix: 's3', name: 'S3 (a gateway endpoint: ECR keeps the image layers in S3)', add: 'vpc.addGatewayEndpoint(\'S3\', { service: GatewayVpcEndpointAwsService.S3 })' },
  logs: { suffix: 'logs', name: 'CloudWatch Logs (logs, for awslogs)', add: 'vpc.addInterfaceEndpoint(\'Logs\', { service: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS })' },
  secretsManager: {
    suffix: 'secretsmanager',
    name: 'Secrets Manager (secretsmanager, for the task definition\'s secrets)',
    add: 'vpc.addInterfaceEndpoint(\'SecretsManager\', { service: InterfaceVpcEndpointAwsService.SECRETS_MANAGER })',
  },
  ssm: { suffix: 'ssm', name: 'SSM (ssm, for the task definition\'s parameters)', add: 'vpc.addInterfaceEndpoint(\'Ssm\', { service: InterfaceVpcEndpointAwsService.SSM })' },
} as const satisfies Record<string, Endpoint>;

/** The service names (their last parts, `ecr.dkr`) of the endpoints an `ec2.Vpc` of this app has in the app. */
export function endpointsOf(vpc: ec2.IVpc): Set<string> {
  const id = resolved(vpc, vpc.vpcId);
  const found = new Set<string>();
  for (const c of appConstructs(vpc)) {
    if (!(c instanceof ec2.CfnVPCEndpoint) || resolved(vpc, c.vpcId) !== id) continue;
    const service = resolved(vpc, c.serviceName);
    // `com.amazonaws.<region>.ecr.dkr`, the region often a reference: the name's last string part ends with the service.
    for (const e of Object.values(TASK_ENDPOINTS)) if (service.includes(`.${e.suffix}"`)) found.add(e.suffix);
  }
  return found;
}

/** What the task definition needs besides ECR and S3, as far as synth can tell (undefined: not known). */
export interface TaskNeeds {
  readonly awslogs?: boolean;
  readonly secretsManager?: boolean;
  readonly ssm?: boolean;
}

/**
 * Whether a task definition of this app logs with awslogs and has secrets: its containers' log drivers and secrets as
 * they synthesize, and which service its execution role may read them from. An imported one: not known.
 */
export function taskNeeds(taskDefinition: ecs.ITaskDefinition): TaskNeeds {
  if (!(taskDefinition instanceof ecs.TaskDefinition)) return {};
  const cfn = taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
  const definitions = Stack.of(taskDefinition).resolve(cfn.containerDefinitions) as Array<Record<string, any>> | undefined ?? [];
  // The L1's own property names (camelCase): resolved, not yet rendered as CloudFormation's.
  const awslogs = definitions.some((d) => d.logConfiguration?.logDriver === 'awslogs');
  const hasSecrets = definitions.some((d) => (d.secrets ?? []).length > 0 || d.repositoryCredentials !== undefined);
  if (!hasSecrets) return { awslogs, secretsManager: false, ssm: false };
  const policy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const grants = policy ? resolved(taskDefinition, policy.document.toJSON()) : '';
  const secretsManager = grants.includes('secretsmanager:GetSecretValue');
  const ssm = grants.includes('ssm:GetParameters');
  // Secrets whose service the grants do not tell: both, as a reminder.
  return secretsManager || ssm ? { awslogs, secretsManager, ssm } : { awslogs, secretsManager: true, ssm: true };
}

/** What the network checks found: errors refuse the synth, warnings name what to check. */
export interface NetworkFindings {
  readonly errors: string[];
  readonly warnings: string[];
}

/**
 * The network checks of a Fargate task's subnets (see the module's comment for what synth knows):
 * - subnets whose only way out is an internet gateway, without a public IP: an error (the task cannot pull its
 *   image), unless the VPC is of this app and has the ECR endpoints;
 * - subnets without a route out in a VPC of this app without the ECR endpoints: an error;
 * - subnets without a route out otherwise: a warning naming the endpoints the task needs that synth does not see.
 */
export function fargateNetworkFindings(input: {
  vpc: ec2.IVpc;
  subnets: readonly ec2.ISubnet[];
  assignPublicIp: boolean;
  needs: TaskNeeds;
}): NetworkFindings {
  const { vpc, subnets, assignPublicIp, needs } = input;
  const errors: string[] = [];
  const warnings: string[] = [];
  const reach = subnetReach(vpc, subnets);
  const ids = (r: SubnetReach) => subnets.filter((s) => reach.get(s) === r).map((s) => describeSubnet(s));
  const ownVpc = isVpcOfThisApp(vpc);
  const present = ownVpc ? endpointsOf(vpc) : new Set<string>();
  const wanted: Endpoint[] = [
    TASK_ENDPOINTS.ecrApi, TASK_ENDPOINTS.ecrDkr, TASK_ENDPOINTS.s3,
    ...(needs.awslogs !== false ? [TASK_ENDPOINTS.logs] : []),
    ...(needs.secretsManager !== false ? [TASK_ENDPOINTS.secretsManager] : []),
    ...(needs.ssm !== false ? [TASK_ENDPOINTS.ssm] : []),
  ];
  const unsure = (e: Endpoint) => (e === TASK_ENDPOINTS.logs && needs.awslogs === undefined)
    || ((e === TASK_ENDPOINTS.secretsManager || e === TASK_ENDPOINTS.ssm) && needs.secretsManager === undefined);
  const listed = (list: readonly Endpoint[]) => list.map((e) => `${e.name}${unsure(e) ? ' if the task definition needs it' : ''}`).join(', ');
  const missing = wanted.filter((e) => !present.has(e.suffix));
  const hasEcr = present.has(TASK_ENDPOINTS.ecrApi.suffix) && present.has(TASK_ENDPOINTS.ecrDkr.suffix);

  const publicOnly = ids('internet-gateway');
  if (publicOnly.length > 0 && !assignPublicIp) {
    if (ownVpc && hasEcr) {
      if (missing.length > 0) warnings.push(endpointWarning(publicOnly, 'whose only route out is an internet gateway, without a public IP', missing, listed, true));
    } else {
      errors.push(`launchTarget: the Fargate tasks go to public subnets (${publicOnly.join(', ')}) without a public IP (assignPublicIp is off): `
        + 'their only route out is the internet gateway, which needs one, so they cannot pull their image from ECR or write their logs '
        + '(the task stops with ResourceInitializationError minutes into the deployment). Give assignPublicIp: true, or subnets with a NAT gateway '
        + '(vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS })'
        + `${ownVpc ? ', or add the endpoints the task needs to the VPC: ' + listed(missing) : ''}.`);
    }
  }
  const closed = ids('none');
  if (closed.length > 0) {
    if (ownVpc && !hasEcr) {
      const ecr = [TASK_ENDPOINTS.ecrApi, TASK_ENDPOINTS.ecrDkr].filter((e) => !present.has(e.suffix));
      errors.push(`launchTarget: the Fargate tasks go to subnets without a route out (${closed.join(', ')}), and the VPC has no interface `
        + `endpoint for ${ecr.map((e) => e.name).join(' and ')}: they cannot pull their image (the task stops with ResourceInitializationError `
        + 'minutes into the deployment). Choose subnets with a NAT gateway (vpcSubnets), or add the endpoints the task needs: '
        + `${missing.map((e) => e.add).join('; ')}.`);
    } else if (missing.length > 0) {
      warnings.push(endpointWarning(closed, 'without a route out', missing, listed, ownVpc));
    }
  }
  return { errors, warnings };
}

function endpointWarning(
  subnets: readonly string[], what: string, missing: readonly Endpoint[], listed: (list: readonly Endpoint[]) => string, ownVpc: boolean,
): string {
  return `The Fargate tasks go to subnets ${what} (${subnets.join(', ')}): they reach AWS only through VPC endpoints. `
    + (ownVpc
      ? `The VPC has no endpoint for ${listed(missing)}: add ${missing.length === 1 ? 'it' : 'them'}, or the task fails to start (ResourceInitializationError).`
      : `Synth cannot see the endpoints of an imported VPC: make sure it has them for ${listed(missing)}, `
        + 'or the task fails to start (ResourceInitializationError).');
}

function describeSubnet(subnet: ec2.ISubnet): string {
  return Token.isUnresolved(subnet.subnetId) ? subnet.node.path : subnet.subnetId;
}

/**
 * Security groups given to the runner's functions (the hardening prop `securityGroups`) that belong to the tasks'
 * side: used by a service of the task definition, used by the tasks themselves, or allowing inbound traffic (a
 * database's, a load balancer's). Each with why, for a warning.
 */
export function misplacedFunctionGroups(input: {
  functionGroups: readonly ec2.ISecurityGroup[];
  taskGroups: readonly ec2.ISecurityGroup[];
  taskDefinition: ecs.ITaskDefinition;
  scope: IConstruct;
}): Array<{ group: ec2.ISecurityGroup; why: string }> {
  const { functionGroups, taskGroups, taskDefinition, scope } = input;
  if (functionGroups.length === 0) return [];
  const all = appConstructs(scope);
  const same = (a: ec2.ISecurityGroup, b: ec2.ISecurityGroup) => a === b || resolved(scope, a.securityGroupId) === resolved(scope, b.securityGroupId);
  const services = all.filter((c): c is ecs.BaseService => c instanceof ecs.BaseService && c.taskDefinition === taskDefinition);
  const ingress = all.filter((c): c is ec2.CfnSecurityGroupIngress => c instanceof ec2.CfnSecurityGroupIngress);
  const found: Array<{ group: ec2.ISecurityGroup; why: string }> = [];
  for (const group of functionGroups) {
    const service = services.find((s) => s.connections.securityGroups.some((g) => same(g, group)));
    if (service) {
      found.push({ group, why: `the service ${service.node.path} of the task definition uses it` });
      continue;
    }
    if (taskGroups.some((g) => same(g, group))) {
      found.push({ group, why: 'the tasks use it too (launchTarget securityGroups)' });
      continue;
    }
    const cfn = group.node.defaultChild;
    const inline = cfn instanceof ec2.CfnSecurityGroup ? Stack.of(cfn).resolve(cfn.securityGroupIngress) as unknown[] | undefined : undefined;
    const id = resolved(scope, group.securityGroupId);
    if ((inline?.length ?? 0) > 0 || ingress.some((r) => r.groupId !== undefined && resolved(scope, r.groupId) === id)) {
      found.push({ group, why: 'it allows inbound traffic (a group of something that is reached, such as a database or a load balancer)' });
    }
  }
  return found;
}

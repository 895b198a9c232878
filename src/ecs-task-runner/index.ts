import { Annotations, Arn, ArnFormat, Aws, CustomResource, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { clusterDefaultStrategy, fargateNetworkFindings, isFargateStrategy, misplacedFunctionGroups, taskNeeds } from './network';
import { MAX_TIMEOUT, TaskRunnerProvider } from './provider';
import { EnvironmentSubject, arnSubject, environmentProblems, hardeningSubjects, networkSubjects } from '../common/environment';
import { validateHardening } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeWildcardResources } from '../common/nag';
import { describeToken, literalDurationProblems, throwIfInvalid } from '../common/validation';

/** When a deployment runs the task. */
export enum RunOn {
  /** When the resource is created (the stack is created, or the runner is added to it). */
  CREATE = 'CREATE',
  /** When the resource is updated (see `updateCriteria` for what an update is). */
  UPDATE = 'UPDATE',
}

/** What one container of the task runs with instead of its task definition's settings. */
export interface ContainerOverride {
  /** The container, by its name in the task definition. */
  readonly containerName: string;

  /**
   * The command instead of the image's or task definition's.
   *
   * @default - the task definition's command
   */
  readonly command?: string[];

  /**
   * Environment variables added to the task definition's, or replacing those of the same name.
   *
   * @default - the task definition's environment
   */
  readonly environment?: { [name: string]: string };
}

/** Values of a container's environment whose change makes an update run the task. */
export interface UpdateCriterion {
  /** The container, by its name in the task definition. */
  readonly containerName: string;

  /**
   * Names of its environment variables (or secrets: a secret changes when its `valueFrom` does). The value compared
   * is the one the container runs with: the task definition's, or the override's when there is one.
   */
  readonly environmentKeys: string[];
}

/** Where the tasks' network interfaces go (task definitions with the `awsvpc` network mode; always on Fargate). */
export interface TaskNetworkOptions {
  /**
   * The VPC of the subnets.
   *
   * @default - the cluster's VPC (a cluster imported without one needs this)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of the tasks (`awsvpc` only).
   *
   * @default - the VPC's private subnets, or its public subnets with `assignPublicIp`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of the tasks (`awsvpc` only). Reach them through `runner.connections`.
   *
   * @default - a new security group with all outbound traffic allowed
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** How the tasks run on Fargate. */
export interface FargateLaunchTargetOptions extends TaskNetworkOptions {
  /**
   * Give each task a public IP address (needed in a public subnet without a NAT gateway to pull images).
   *
   * @default false
   */
  readonly assignPublicIp?: boolean;

  /**
   * The Fargate platform version.
   *
   * @default FargatePlatformVersion.LATEST
   */
  readonly platformVersion?: ecs.FargatePlatformVersion;
}

/** How the tasks are placed on EC2 container instances. */
export interface Ec2LaunchTargetOptions extends TaskNetworkOptions {
  /**
   * Placement constraints, e.g. `PlacementConstraint.memberOf('attribute:ecs.instance-type =~ t3.*')`.
   *
   * @default - none
   */
  readonly placementConstraints?: ecs.PlacementConstraint[];

  /**
   * Placement strategies, e.g. `PlacementStrategy.packedByMemory()`.
   *
   * @default - ECS's default
   */
  readonly placementStrategies?: ecs.PlacementStrategy[];
}

/** How the tasks run on capacity providers (a given strategy, or the cluster's default). */
export interface CapacityProviderLaunchTargetOptions extends Ec2LaunchTargetOptions {
  /**
   * Give each task a public IP address (Fargate capacity providers only).
   *
   * @default false (with the cluster's default strategy: ECS's default, none, unless the strategy is known to be Fargate's)
   */
  readonly assignPublicIp?: boolean;

  /**
   * The Fargate platform version (Fargate capacity providers only).
   *
   * @default FargatePlatformVersion.LATEST
   */
  readonly platformVersion?: ecs.FargatePlatformVersion;
}

/** Where the tasks run. */
export class TaskLaunchTarget {
  /** RunTask on Fargate. The task definition must be Fargate-compatible. */
  public static fargate(options: FargateLaunchTargetOptions = {}): TaskLaunchTarget {
    return new TaskLaunchTarget('FARGATE', options);
  }

  /** RunTask with the EC2 launch type: ECS places the tasks on the cluster's container instances. */
  public static ec2(options: Ec2LaunchTargetOptions = {}): TaskLaunchTarget {
    return new TaskLaunchTarget('EC2', options);
  }

  /**
   * RunTask with the cluster's default capacity provider strategy (neither a launch type nor a strategy is given, so
   * ECS uses the cluster's). The default when the cluster is an `ecs.Cluster` of this app with a default strategy
   * (`addDefaultCapacityProviderStrategy`); give it for an imported cluster that has one. Scale-to-zero capacity
   * providers then scale out for the task instead of failing its placement.
   */
  public static clusterDefault(options: CapacityProviderLaunchTargetOptions = {}): TaskLaunchTarget {
    return new TaskLaunchTarget('CLUSTER_DEFAULT', options);
  }

  /** RunTask with a capacity provider strategy, e.g. `[{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]`. */
  public static capacityProviders(strategy: ecs.CapacityProviderStrategy[], options: CapacityProviderLaunchTargetOptions = {}): TaskLaunchTarget {
    return new TaskLaunchTarget('CAPACITY_PROVIDERS', options, strategy);
  }

  /**
   * StartTask on the given container instances (ARNs, or ids): one task on each, 1 to 10 of them (`count` does not
   * apply). For work that must run on particular hosts.
   */
  public static containerInstances(containerInstanceArns: string[], options: TaskNetworkOptions = {}): TaskLaunchTarget {
    return new TaskLaunchTarget('CONTAINER_INSTANCES', options, undefined, containerInstanceArns);
  }

  /** @internal */
  public readonly _kind: 'FARGATE' | 'EC2' | 'CAPACITY_PROVIDERS' | 'CLUSTER_DEFAULT' | 'CONTAINER_INSTANCES';
  /** @internal */
  public readonly _options: CapacityProviderLaunchTargetOptions;
  /** @internal */
  public readonly _strategy?: ecs.CapacityProviderStrategy[];
  /** @internal */
  public readonly _containerInstances?: string[];

  private constructor(
    kind: TaskLaunchTarget['_kind'], options: CapacityProviderLaunchTargetOptions, strategy?: ecs.CapacityProviderStrategy[], instances?: string[],
  ) {
    this._kind = kind;
    this._options = options;
    this._strategy = strategy;
    this._containerInstances = instances;
  }
}

/** Which containers must exit with code 0 for the run to succeed. */
export class SuccessCriteria {
  /** Every essential container of every task exited 0 (a sidecar's exit code does not count). */
  public static readonly ESSENTIAL_CONTAINERS = new SuccessCriteria('ESSENTIAL_CONTAINERS', []);

  /** Every container of every task exited 0 (a sidecar that ECS stops after the main container exits counts too). */
  public static readonly ALL_CONTAINERS = new SuccessCriteria('ALL_CONTAINERS', []);

  /** These containers of every task exited 0. */
  public static containers(containerNames: string[]): SuccessCriteria {
    return new SuccessCriteria('CONTAINERS', containerNames);
  }

  /** @internal */
  public readonly _kind: string;
  /** @internal */
  public readonly _containers: string[];

  private constructor(kind: string, containers: string[]) {
    this._kind = kind;
    this._containers = containers;
  }
}

/**
 * Properties of an `EcsTaskRunner`. Of the hardening props, `encryptionKey` does not apply: the runner creates no
 * table, queue or topic. `vpc`, `vpcSubnets` and `securityGroups` are its functions' network, as for every construct
 * of this library; the tasks' is the launch target's (`TaskLaunchTarget.fargate({ vpcSubnets, securityGroups })`).
 * Synth warns when a security group given to the functions is the tasks' side's: one a service of the task definition
 * uses, the tasks' own, or one that allows inbound traffic.
 */
export interface EcsTaskRunnerProps extends HardeningProps {
  /** The cluster the tasks run in, in this stack's account and region (synth refuses another). */
  readonly cluster: ecs.ICluster;

  /**
   * The task definition to run. One defined in this app gives the runner its family, roles, containers and log
   * groups; an imported one needs `TaskDefinition.fromTaskDefinitionAttributes` with its roles for iam:PassRole.
   */
  readonly taskDefinition: ecs.ITaskDefinition;

  /**
   * What the containers run with instead of the task definition's command and environment.
   *
   * @default - the task definition as it is
   */
  readonly containerOverrides?: ContainerOverride[];

  /**
   * How many tasks to run, 1 to 10; all must succeed. Does not apply to `TaskLaunchTarget.containerInstances()`.
   *
   * @default 1
   */
  readonly count?: number;

  /**
   * Where the tasks run. `vpc`, `vpcSubnets` and `securityGroups` of the launch target are the tasks' network; the
   * props of the same names at the top level are the runner's functions' (the hardening props, as for every
   * construct of this library).
   *
   * @default - TaskLaunchTarget.clusterDefault() when the cluster is an `ecs.Cluster` of this app with a default
   * capacity provider strategy; else TaskLaunchTarget.fargate() for a Fargate-compatible task definition, and
   * TaskLaunchTarget.ec2() for the others
   */
  readonly launchTarget?: TaskLaunchTarget;

  /**
   * When a deployment runs the task.
   *
   * @default [RunOn.CREATE, RunOn.UPDATE]
   */
  readonly runOn?: RunOn[];

  /**
   * Run the task on the update CloudFormation makes while it rolls a failed stack update back (with the old
   * properties), when the rules would run it. Told from the stack's status (UPDATE_ROLLBACK_IN_PROGRESS).
   *
   * @default false
   */
  readonly runOnRollback?: boolean;

  /**
   * Run on an update only when one of these values changed between the old and the new task definition and
   * overrides (needs `RunOn.UPDATE`). Without them, an update runs the task when what it runs changes: the cluster,
   * the task definition (revision), the overrides, the launch target, `count`, `propagateTags` or `enableExecuteCommand`.
   *
   * @default - every change of what the task runs
   */
  readonly updateCriteria?: UpdateCriterion[];

  /**
   * Values whose change runs the task on any update, whatever `runOn` and `updateCriteria` say, e.g.
   * `{ schema: '42' }` or `{ image: asset.imageTag }`.
   *
   * @default - none
   */
  readonly triggers?: { [key: string]: string };

  /**
   * How long CloudFormation waits for the run (the custom resource's ServiceTimeout), at most one hour. The tasks get
   * this less `pollInterval` and a minute: then they are stopped and the resource fails, before CloudFormation's wait ends.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;

  /**
   * How often the tasks are checked. Every EcsTaskRunner of a stack shares one waiter, so they must share this too.
   *
   * @default Duration.seconds(15)
   */
  readonly pollInterval?: Duration;

  /**
   * Which containers must exit with code 0.
   *
   * @default SuccessCriteria.ESSENTIAL_CONTAINERS
   */
  readonly successCriteria?: SuccessCriteria;

  /**
   * Stop the tasks this resource started that still run when it is deleted.
   *
   * @default true
   */
  readonly stopTasksOnDelete?: boolean;

  /**
   * Propagate the task definition's tags to the tasks.
   *
   * @default false
   */
  readonly propagateTags?: boolean;

  /**
   * Turn on ECS Exec for the tasks (the task role needs the SSM messages permissions).
   *
   * @default false
   */
  readonly enableExecuteCommand?: boolean;

  /**
   * Quote a failed run's last container log lines (five per failing container, `awslogs` with a stream prefix) in the
   * CloudFormation status reason. Anyone allowed `cloudformation:DescribeStackEvents` on the stack reads them there,
   * for as long as the stack's events are kept; the values of `containerOverrides` are masked in them, and so is text
   * that looks like a secret, but anything else the task logs is shown as it is. With `false` the reason links to the
   * task's logs in the ECS console instead, and the runner does not read the log groups (no `logs:GetLogEvents`).
   *
   * @default true
   */
  readonly includeLogLinesInReason?: boolean;
}

const DEFAULTS = {
  timeout: Duration.minutes(10),
  pollInterval: Duration.seconds(15),
  count: 1,
};

/** Time kept after the tasks' deadline to stop them and report, besides one poll interval. */
const REPORT_MARGIN = Duration.minutes(1);
/** The least time the tasks get. */
const MIN_RUN = Duration.minutes(1);
const POLL_MIN = Duration.seconds(5);
const POLL_MAX = Duration.minutes(5);
/** "A total of 8192 characters are allowed for overrides" (RunTask, StartTask). */
const OVERRIDES_MAX_CHARACTERS = 8192;

/**
 * Runs ECS tasks during a deployment and makes the deployment wait for their result: database migrations, seeding,
 * one-off setup. A task that fails (a chosen container exits non-zero, it never starts, it cannot be placed, it outlives
 * `timeout`) fails the resource, and CloudFormation shows why: the task, its stop code and reason, each failing
 * container's exit code, and its last log lines or a link to them.
 *
 * Make what must wait for the run depend on it: `service.node.addDependency(runner)`.
 *
 * @example
 * declare const cluster: ecs.ICluster;
 * declare const taskDefinition: ecs.FargateTaskDefinition;
 * declare const service: ecs.FargateService;
 * const migrate = new EcsTaskRunner(this, 'Migrate', {
 *   cluster,
 *   taskDefinition,
 *   containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
 * });
 * service.node.addDependency(migrate);
 */
export class EcsTaskRunner extends Construct implements ec2.IConnectable {
  /** The custom resource that runs the tasks. */
  public readonly customResource: CustomResource;
  /** The function that starts and stops the tasks (shared by every runner of the stack). */
  public readonly onEventHandler: lambda.IFunction;
  /** The function that checks the tasks (shared by every runner of the stack). */
  public readonly isCompleteHandler: lambda.IFunction;
  /** The security groups of the tasks (empty unless the tasks have network interfaces of their own: `awsvpc`). */
  public readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * The ARNs of the tasks the deployment's run started, sorted and joined with commas (the custom resource's
   * `TaskArns` attribute, `Fn::GetAtt`). A resource that uses it is created after the run succeeded. Empty when the
   * deployment did not run the task (an update that changed nothing that runs).
   */
  public readonly taskArns: string;
  /**
   * The exit code of the task definition's first essential container in the run (`ExitCode`); with several tasks,
   * the first that is not 0, else `0`. Empty when the deployment did not run the task.
   */
  public readonly exitCode: string;
  /** When ECS created the run's first task, ISO 8601 (`StartedAt`). Empty when the deployment did not run the task. */
  public readonly startedAt: string;

  constructor(scope: Construct, id: string, props: EcsTaskRunnerProps) {
    super(scope, id);
    const pollInterval = props.pollInterval ?? DEFAULTS.pollInterval;
    validate(this, props, pollInterval);

    const timeout = props.timeout ?? DEFAULTS.timeout;
    const runSeconds = timeout.toSeconds() - pollInterval.toSeconds() - REPORT_MARGIN.toSeconds();
    const target = props.launchTarget ?? defaultTarget(props.taskDefinition, props.cluster);
    const runOn = props.runOn ?? [RunOn.CREATE, RunOn.UPDATE];
    const successCriteria = props.successCriteria ?? SuccessCriteria.ESSENTIAL_CONTAINERS;

    const provider = TaskRunnerProvider.of(this, { pollInterval, hardening: props });
    this.onEventHandler = provider.onEventFunction;
    this.isCompleteHandler = provider.isCompleteFunction;

    const network = this.network(props, target);
    this.securityGroups = network?.securityGroups ?? [];
    const options = target._options;
    const onFargate = runsOnFargate(target, props.taskDefinition, props.cluster);
    const withPublicIp = target._kind === 'FARGATE' || target._kind === 'CAPACITY_PROVIDERS'
      || (target._kind === 'CLUSTER_DEFAULT' && (onFargate === true || options.assignPublicIp !== undefined));

    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::EcsTaskRunner',
      serviceTimeout: timeout,
      properties: {
        Cluster: props.cluster.clusterArn,
        TaskDefinition: props.taskDefinition.taskDefinitionArn,
        Launch: {
          Type: target._kind,
          ...(options.platformVersion ? { PlatformVersion: options.platformVersion } : {}),
          ...(network ? {
            Subnets: network.subnets,
            SecurityGroups: network.securityGroups.map((g) => g.securityGroupId),
            ...(withPublicIp ? { AssignPublicIp: options.assignPublicIp ? 'ENABLED' : 'DISABLED' } : {}),
          } : {}),
          ...(target._strategy ? {
            CapacityProviderStrategy: target._strategy.map((s) => ({
              CapacityProvider: s.capacityProvider,
              ...(s.base !== undefined ? { Base: s.base } : {}),
              ...(s.weight !== undefined ? { Weight: s.weight } : {}),
            })),
          } : {}),
          ...(options.placementConstraints?.length ? {
            PlacementConstraints: options.placementConstraints.flatMap((c) => c.toJson()).map((c) => ({ Type: c.type, Expression: c.expression })),
          } : {}),
          ...(options.placementStrategies?.length ? {
            PlacementStrategy: options.placementStrategies.flatMap((s) => s.toJson()).map((s) => ({ Type: s.type, Field: s.field })),
          } : {}),
          ...(target._containerInstances ? { ContainerInstances: target._containerInstances } : {}),
        },
        Count: props.count ?? DEFAULTS.count,
        ContainerOverrides: (props.containerOverrides ?? []).map(overrideProperty),
        RunOn: runOn,
        RunOnRollback: props.runOnRollback ?? false,
        UpdateCriteria: (props.updateCriteria ?? []).map((c) => ({ ContainerName: c.containerName, EnvironmentKeys: c.environmentKeys })),
        Triggers: props.triggers ?? {},
        TimeoutSeconds: timeout.toSeconds(),
        RunSeconds: runSeconds,
        SuccessCriteria: { Type: successCriteria._kind, Containers: successCriteria._containers },
        StopTasksOnDelete: props.stopTasksOnDelete ?? true,
        PropagateTags: props.propagateTags ?? false,
        EnableExecuteCommand: props.enableExecuteCommand ?? false,
        ...(props.includeLogLinesInReason === false ? { IncludeLogLinesInReason: false } : {}),
      },
    });

    this.taskArns = this.customResource.getAttString('TaskArns');
    this.exitCode = this.customResource.getAttString('ExitCode');
    this.startedAt = this.customResource.getAttString('StartedAt');

    this.grant(provider, props, target);

    // Checked when the app is synthesized, so that what is added to the app after the runner counts: the VPC's
    // endpoints and routes, a cluster's default strategy, a security group's ingress rules.
    const defaultedToStrategy = !props.launchTarget && target._kind === 'CLUSTER_DEFAULT';
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (!props.launchTarget && !defaultedToStrategy && (clusterDefaultStrategy(props.cluster)?.length ?? 0) > 0) {
          errors.push(`launchTarget is not given, and the cluster ${props.cluster.node.path} got its default capacity provider strategy after this runner `
            + `was created, so the runner chose ${target._kind === 'FARGATE' ? 'TaskLaunchTarget.fargate()' : 'TaskLaunchTarget.ec2()'}, which bypasses it: `
            + 'create the runner after cluster.addDefaultCapacityProviderStrategy(), or give launchTarget: TaskLaunchTarget.clusterDefault()');
        }
        if (network) errors.push(...this.checkNetwork(props, target, network, onFargate));
        for (const { group, why } of misplacedFunctionGroups({
          functionGroups: props.securityGroups ?? [], taskGroups: this.securityGroups, taskDefinition: props.taskDefinition, scope: this,
        })) {
          Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsTaskRunner:functionSecurityGroups',
            'securityGroups (a hardening prop) are the security groups of the runner\'s functions (its onEvent and isComplete functions and the '
            + `Provider framework's), not of its tasks; ${describeGroup(group)} is one of them, and ${why}. Give the functions a group of their own `
            + 'that allows no inbound traffic, and the tasks theirs in the launch target: TaskLaunchTarget.fargate({ securityGroups }).');
        }
        return errors;
      },
    });
  }

  /** The network checks of a Fargate task's subnets: errors returned, warnings added (see network.ts). */
  private checkNetwork(props: EcsTaskRunnerProps, target: TaskLaunchTarget, network: TaskNetwork, onFargate: boolean | undefined): string[] {
    if (onFargate === false) return [];
    const findings = fargateNetworkFindings({
      vpc: network.vpc,
      subnets: network.subnetObjects,
      assignPublicIp: target._options.assignPublicIp === true,
      needs: taskNeeds(props.taskDefinition),
    });
    // When synth cannot tell whether the tasks run on Fargate (an imported cluster's default strategy), what would be an
    // error is a warning.
    const warnings = onFargate ? findings.warnings : [...findings.errors.map((e) => `If the cluster's default capacity provider strategy is Fargate: ${e}`), ...findings.warnings];
    for (const warning of warnings) Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsTaskRunner:taskEndpoints', warning);
    return onFargate ? findings.errors : [];
  }

  /** The tasks' security groups, to allow them to reach a database: `db.connections.allowDefaultPortFrom(runner)`. */
  public get connections(): ec2.Connections {
    if (this.securityGroups.length === 0) {
      throw new Error(`EcsTaskRunner ${this.node.path}: its tasks have no security groups of their own (their task definition does not use `
        + 'the awsvpc network mode); allow traffic from the container instances\' security groups instead');
    }
    return new ec2.Connections({ securityGroups: this.securityGroups });
  }

  /** Subnets and security groups for a task definition with the awsvpc network mode; undefined for the others. */
  private network(props: EcsTaskRunnerProps, target: TaskLaunchTarget): TaskNetwork | undefined {
    if (!usesAwsVpc(props.taskDefinition, target)) return undefined;
    const options = target._options;
    const vpc = options.vpc ?? clusterVpc(props.cluster)!;
    const selected = vpc.selectSubnets(options.vpcSubnets ?? (options.assignPublicIp ? { subnetType: ec2.SubnetType.PUBLIC } : {}));
    const where = { vpc, subnets: selected.subnetIds, subnetObjects: selected.subnets };
    if (options.securityGroups) return { ...where, securityGroups: options.securityGroups };
    // A one-off task reaches what it needs (its image registry, logs, secrets, the database it migrates) outbound, so
    // its own group allows all outbound traffic: connecting it to a database adds only the database's ingress rule,
    // and CDK's warning that the egress rule is ignored says nothing the user must act on.
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Tasks of the EcsTaskRunner ${this.node.path}`.slice(0, 255),
      allowAllOutbound: true,
    });
    // Acknowledged on the runner: CDK looks for an acknowledgement on the warning construct's parents, not on itself.
    Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-ec2:ipv4IgnoreEgressRule',
      'The runner\'s own security group allows all outbound traffic on purpose; an egress rule adds nothing to it');
    return { ...where, securityGroups: [securityGroup] };
  }

  /**
   * This runner's part of the shared functions' IAM, in two policies of its own that its custom resource waits for:
   * start the task definition's family in the cluster only, pass only its roles, describe, list and stop only in the
   * cluster, read only its containers' log groups.
   */
  private grant(provider: TaskRunnerProvider, props: EcsTaskRunnerProps, target: TaskLaunchTarget): void {
    const stack = Stack.of(this);
    const clusterArn = props.cluster.clusterArn;
    const clusterName = props.cluster.clusterName;
    const inCluster = { ArnEquals: { 'ecs:cluster': clusterArn } };
    const tasksInCluster = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${clusterName}/*` });
    const startAction = target._kind === 'CONTAINER_INSTANCES' ? 'StartTask' : 'RunTask';
    const family = familyOf(props.taskDefinition);
    const tasksReason = 'Task ids are known only once they start: the resource is the tasks of the one cluster by name, which the ecs:cluster '
      + `condition repeats by ARN (describe, stop), or the tasks it starts itself (tag-on-create, ecs:CreateAction ${startAction}).`;

    const start: Array<{ statement: iam.PolicyStatement; reason?: string }> = [
      {
        statement: new iam.PolicyStatement({
          sid: `${startAction}OfTheFamilyInTheCluster`,
          actions: [`ecs:${startAction}`],
          resources: [stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${family}:*` })],
          conditions: inCluster,
        }),
        reason: 'The task definition is granted by its family (every revision: a deployment registers a new one), in the one cluster (ecs:cluster condition).',
      },
      {
        statement: new iam.PolicyStatement({
          sid: 'TagTheTasksItStarts',
          actions: ['ecs:TagResource'],
          resources: [tasksInCluster],
          conditions: { StringEquals: { 'ecs:CreateAction': startAction } },
        }),
        reason: tasksReason,
      },
      {
        statement: new iam.PolicyStatement({
          sid: 'FindStopAndDescribeItsTasks',
          actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
          resources: [tasksInCluster],
          conditions: inCluster,
        }),
        reason: tasksReason,
      },
      {
        statement: new iam.PolicyStatement({
          sid: 'ListItsTasks',
          actions: ['ecs:ListTasks'],
          resources: [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${clusterName}/*` })],
          conditions: inCluster,
        }),
        reason: 'ListTasks is authorized on container instances (Service Authorization Reference): the resource is scoped to the one cluster by name, and the ecs:cluster condition repeats its ARN.',
      },
      {
        statement: new iam.PolicyStatement({
          sid: 'ReadTaskDefinitions',
          actions: ['ecs:DescribeTaskDefinition'],
          resources: ['*'],
        }),
        reason: 'ecs:DescribeTaskDefinition supports no resource-level permissions (Service Authorization Reference), so it is granted on *.',
      },
    ];
    const roles = passedRoles(props.taskDefinition);
    if (roles.unknown) {
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsTaskRunner:unknownTaskRoles',
        'taskDefinition is imported without its task role, so no iam:PassRole is granted for it: if it has a task or execution role, '
        + 'RunTask will be denied. Import it with TaskDefinition.fromTaskDefinitionAttributes({ taskDefinitionArn, taskRole, executionRole }).');
    }
    if (roles.arns.length > 0) {
      start.push({
        statement: new iam.PolicyStatement({
          sid: 'PassTheTaskRolesToEcs',
          actions: ['iam:PassRole'],
          resources: roles.arns,
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      });
    }
    // Whatever this runner's props: an update may come with the properties of any earlier synth (CloudFormation's
    // rollback restores them, in whatever order it rolls this policy back), which synth cannot see, and any of them may
    // make it run on an update and ask whether the stack is rolling back. Read-only, on this stack alone.
    start.push({
      statement: new iam.PolicyStatement({
        sid: 'TellARollbackFromAnUpdate',
        actions: ['cloudformation:DescribeStacks'],
        resources: [Aws.STACK_ID],
      }),
    });

    const check: Array<{ statement: iam.PolicyStatement; reason?: string }> = [{
      statement: new iam.PolicyStatement({
        sid: 'DescribeAndStopItsTasks',
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [tasksInCluster],
        conditions: inCluster,
      }),
      reason: tasksReason,
    }];
    const logGroups = props.includeLogLinesInReason === false ? [] : awslogsGroups(props.taskDefinition);
    if (logGroups.length > 0) {
      check.push({
        statement: new iam.PolicyStatement({
          sid: 'ReadTheLastLogLinesOfItsContainers',
          actions: ['logs:GetLogEvents'],
          resources: logGroups.map((name) => stack.formatArn({
            service: 'logs', resource: 'log-group', resourceName: `${name}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          })),
        }),
        reason: 'Reads the last lines of a failed container\'s log stream, named by task id, in the task definition\'s own awslogs log groups.',
      });
    }

    const policy = (policyId: string, fn: lambda.Function, statements: typeof start) => {
      const p = new iam.Policy(this, policyId, { roles: [fn.role!], statements: statements.map((s) => s.statement) });
      provider.addRunnerPolicy(p, fn.role!);
      for (const { statement, reason } of statements) if (reason) acknowledgeWildcardResources(p, statement, reason);
      // The resource must not reach the functions before they may act for it.
      this.customResource.node.addDependency(p);
      return p;
    };
    policy('StartPolicy', provider.onEventFunction, start);
    policy('CheckPolicy', provider.isCompleteFunction, check);
  }
}

function overrideProperty(o: ContainerOverride) {
  return {
    Name: o.containerName,
    ...(o.command ? { Command: o.command } : {}),
    ...(o.environment ? { Environment: Object.entries(o.environment).map(([Name, Value]) => ({ Name, Value })) } : {}),
  };
}

/**
 * The cluster's default capacity provider strategy when it is an `ecs.Cluster` of this app with one; else Fargate for
 * a Fargate-compatible task definition, and the EC2 launch type for the others.
 */
function defaultTarget(taskDefinition: ecs.ITaskDefinition, cluster: ecs.ICluster): TaskLaunchTarget {
  if ((clusterDefaultStrategy(cluster)?.length ?? 0) > 0) return TaskLaunchTarget.clusterDefault();
  return taskDefinition.isFargateCompatible ? TaskLaunchTarget.fargate() : TaskLaunchTarget.ec2();
}

/** Where the tasks' network interfaces go. */
interface TaskNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: string[];
  readonly subnetObjects: ec2.ISubnet[];
  readonly securityGroups: ec2.ISecurityGroup[];
}

/**
 * Whether the tasks run on Fargate: true, false, or undefined when synth cannot tell (the default strategy of an
 * imported cluster, for a task definition compatible with both).
 */
function runsOnFargate(target: TaskLaunchTarget, taskDefinition: ecs.ITaskDefinition, cluster: ecs.ICluster): boolean | undefined {
  switch (target._kind) {
    case 'FARGATE': return true;
    case 'EC2':
    case 'CONTAINER_INSTANCES': return false;
    case 'CAPACITY_PROVIDERS': return isFargateStrategy(target._strategy);
    case 'CLUSTER_DEFAULT': {
      const known = isFargateStrategy(clusterDefaultStrategy(cluster));
      if (known !== undefined) return known;
      if (!taskDefinition.isEc2Compatible) return taskDefinition.isFargateCompatible ? true : undefined;
      return taskDefinition.isFargateCompatible ? undefined : false;
    }
  }
}

function describeGroup(group: ec2.ISecurityGroup): string {
  return Token.isUnresolved(group.securityGroupId) ? `the security group ${group.node.path}` : `the security group ${group.securityGroupId}`;
}

/** The task definition class of this app, when it is one (not imported). */
function definedHere(taskDefinition: ecs.ITaskDefinition): ecs.TaskDefinition | undefined {
  return taskDefinition instanceof ecs.TaskDefinition ? taskDefinition : undefined;
}

/** The family: the task definition's own, or read from its ARN (`task-definition/<family>:<revision>`). */
function familyOf(taskDefinition: ecs.ITaskDefinition): string {
  const defined = definedHere(taskDefinition);
  if (defined) return defined.family;
  const resourceName = Arn.split(taskDefinition.taskDefinitionArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
  return Token.isUnresolved(resourceName) ? Fn.select(0, Fn.split(':', resourceName)) : resourceName.split(':')[0];
}

/** The task and execution roles (a task definition imported without roles: unknown). */
function passedRoles(taskDefinition: ecs.ITaskDefinition): { arns: string[]; unknown: boolean } {
  const arns: string[] = [];
  let unknown = false;
  try {
    arns.push(taskDefinition.taskRole.roleArn);
  } catch {
    unknown = true; // an imported task definition without taskRole throws here
  }
  if (taskDefinition.executionRole) arns.push(taskDefinition.executionRole.roleArn);
  return { arns, unknown };
}

/** The awslogs log group names of the task definition's containers (for one defined in this app). */
function awslogsGroups(taskDefinition: ecs.ITaskDefinition): string[] {
  const defined = definedHere(taskDefinition);
  if (!defined) return [];
  const names = new Set<string>();
  for (const child of defined.node.children) {
    if (!(child instanceof ecs.ContainerDefinition) || !child.logDriverConfig) continue;
    const { logDriver, options } = child.logDriverConfig;
    if (logDriver === 'awslogs' && options?.['awslogs-group'] && options['awslogs-stream-prefix']) names.add(options['awslogs-group']);
  }
  return [...names];
}

/** The containers of a task definition of this app, by name (undefined for an imported one). */
function containersOf(taskDefinition: ecs.ITaskDefinition): string[] | undefined {
  const defined = definedHere(taskDefinition);
  if (!defined) return undefined;
  return defined.node.children.filter((c): c is ecs.ContainerDefinition => c instanceof ecs.ContainerDefinition).map((c) => c.containerName);
}

function clusterVpc(cluster: ecs.ICluster): ec2.IVpc | undefined {
  try {
    return cluster.vpc;
  } catch {
    return undefined; // a cluster imported by ARN has no VPC
  }
}

/** Whether the tasks get network interfaces of their own: awsvpc (Fargate always). */
function usesAwsVpc(taskDefinition: ecs.ITaskDefinition, target: TaskLaunchTarget): boolean {
  try {
    return taskDefinition.networkMode === ecs.NetworkMode.AWS_VPC;
  } catch {
    // An imported task definition without its network mode: Fargate needs awsvpc; elsewhere, network options say so.
    const o = target._options;
    return target._kind === 'FARGATE' || o.vpcSubnets !== undefined || o.securityGroups !== undefined;
  }
}

/** Checks every prop and throws one error that lists each mistake. */
function validate(scope: Construct, props: EcsTaskRunnerProps, pollInterval: Duration): void {
  const problems: string[] = [];
  const target = props.launchTarget;
  const containers = containersOf(props.taskDefinition);
  const knownContainer = (name: string, where: string) => {
    if (containers && !Token.isUnresolved(name) && !containers.includes(name)) {
      problems.push(`${where} is ${JSON.stringify(name)}, which is not a container of the task definition; give one of ${containers.join(', ')}`);
    }
  };

  if (props.count !== undefined && !Token.isUnresolved(props.count) && (!Number.isInteger(props.count) || props.count < 1 || props.count > 10)) {
    problems.push(`count is ${props.count}; give a whole number from 1 to 10`);
  }
  if (target?._kind === 'CONTAINER_INSTANCES' && props.count !== undefined && props.count !== 1) {
    Annotations.of(scope).addWarningV2('cdk-ecs-ops/EcsTaskRunner:countIgnored',
      `count is ${Token.isUnresolved(props.count) ? describeToken(scope, props.count) : props.count}, but TaskLaunchTarget.containerInstances() `
      + 'starts one task on each given instance: count is ignored.');
  }
  // count may be a token: it goes to the custom resource as it is, and the function checks it (1 to 10) before it
  // starts anything. The timeout and poll interval are computed with here.
  const durations = literalDurationProblems(scope, { timeout: props.timeout, pollInterval: props.pollInterval });
  problems.push(...durations);

  const timeout = props.timeout ?? DEFAULTS.timeout;
  const pollSeconds = pollInterval.isUnresolved() ? undefined : pollInterval.toSeconds({ integral: false });
  if (pollSeconds !== undefined && (!Number.isInteger(pollSeconds) || pollSeconds < POLL_MIN.toSeconds() || pollSeconds > POLL_MAX.toSeconds())) {
    problems.push(`pollInterval is ${pollInterval.toHumanString()}; give whole seconds from ${POLL_MIN.toHumanString()} to ${POLL_MAX.toHumanString()}`);
  }
  if (!timeout.isUnresolved()) {
    const seconds = timeout.toSeconds({ integral: false });
    const least = (pollSeconds ?? DEFAULTS.pollInterval.toSeconds()) + REPORT_MARGIN.toSeconds() + MIN_RUN.toSeconds();
    if (!Number.isInteger(seconds) || seconds > MAX_TIMEOUT.toSeconds()) {
      problems.push(`timeout is ${timeout.toHumanString()}; give whole seconds up to ${MAX_TIMEOUT.toHumanString()}, CloudFormation's limit for a custom resource`);
    } else if (seconds < least) {
      problems.push(`timeout is ${timeout.toHumanString()}; give at least ${Duration.seconds(least).toHumanString()} `
        + '(pollInterval, a minute to stop the tasks and report, and a minute for the tasks)');
    }
  }

  if (props.containerOverrides !== undefined) {
    if (props.containerOverrides.length === 0) problems.push('containerOverrides is empty; give at least one override, or leave it out to run the task definition as it is');
    const seen = new Set<string>();
    props.containerOverrides.forEach((o, i) => {
      const where = `containerOverrides[${i}]`;
      if (!o.containerName) problems.push(`${where}.containerName is empty; give the name of a container of the task definition`);
      else knownContainer(o.containerName, `${where}.containerName`);
      if (seen.has(o.containerName)) problems.push(`${where}.containerName ${JSON.stringify(o.containerName)} is overridden twice; give one override per container`);
      seen.add(o.containerName);
      if (o.command !== undefined && o.command.length === 0) problems.push(`${where}.command is empty; give the command and its arguments, or leave it out`);
      if (o.command === undefined && (o.environment === undefined || Object.keys(o.environment).length === 0)) {
        problems.push(`${where} (${o.containerName}) overrides nothing; give command or environment`);
      }
      for (const name of Object.keys(o.environment ?? {})) {
        if (!/^[^=\0]+$/.test(name)) problems.push(`${where}.environment has the variable name ${JSON.stringify(name)}; give a non-empty name without "="`);
      }
    });
    const json = JSON.stringify({
      containerOverrides: props.containerOverrides.map((o) => ({
        name: o.containerName,
        command: o.command,
        environment: o.environment && Object.entries(o.environment).map(([name, value]) => ({ name, value })),
      })),
    });
    if (!Token.isUnresolved(json) && json.length > OVERRIDES_MAX_CHARACTERS) {
      problems.push(`containerOverrides take ${json.length} characters as ECS overrides; ECS allows ${OVERRIDES_MAX_CHARACTERS}: move the long values into the task definition`);
    }
  }

  const runOn = props.runOn ?? [RunOn.CREATE, RunOn.UPDATE];
  if (props.runOn !== undefined && props.runOn.length === 0) problems.push('runOn is empty; give RunOn.CREATE, RunOn.UPDATE or both');
  for (const r of runOn) if (!Object.values(RunOn).includes(r)) problems.push(`runOn has ${JSON.stringify(r)}; give RunOn.CREATE or RunOn.UPDATE`);
  if (new Set(runOn).size !== runOn.length) problems.push('runOn names the same event twice');
  if (props.updateCriteria !== undefined) {
    if (!runOn.includes(RunOn.UPDATE)) problems.push('updateCriteria is set, but runOn does not include RunOn.UPDATE; add it, or leave updateCriteria out');
    if (props.updateCriteria.length === 0) problems.push('updateCriteria is empty; give the containers and environment keys whose change runs the task, or leave it out');
    props.updateCriteria.forEach((c, i) => {
      knownContainer(c.containerName, `updateCriteria[${i}].containerName`);
      if (!c.environmentKeys || c.environmentKeys.length === 0) problems.push(`updateCriteria[${i}].environmentKeys is empty; give at least one variable name`);
    });
  }
  for (const key of Object.keys(props.triggers ?? {})) if (key === '') problems.push('triggers has an empty key; give each trigger a name');

  if (props.successCriteria && props.successCriteria._kind === 'CONTAINERS') {
    if (props.successCriteria._containers.length === 0) problems.push('successCriteria is SuccessCriteria.containers([]); give at least one container name');
    props.successCriteria._containers.forEach((name, i) => knownContainer(name, `successCriteria.containers[${i}]`));
  }

  problems.push(...validateTarget(props, target ?? defaultTarget(props.taskDefinition, props.cluster)));

  problems.push(...validateHardening(props));
  if (!pollInterval.isUnresolved()) problems.push(...TaskRunnerProvider.conflicts(scope, { pollInterval, hardening: props }));

  problems.push(...environmentProblems(scope, 'EcsTaskRunner', [
    { prop: 'cluster', kind: 'cluster', resource: props.cluster, arn: props.cluster.clusterArn },
    ...taskDefinitionSubjects(props.taskDefinition),
    ...launchTargetSubjects(target),
    ...hardeningSubjects(props),
  ]));

  throwIfInvalid('EcsTaskRunner', problems);
}

/** The task definition, and its roles (IAM: their account), which RunTask passes to ECS. */
function taskDefinitionSubjects(taskDefinition: ecs.ITaskDefinition): EnvironmentSubject[] {
  const subjects: EnvironmentSubject[] = [{ prop: 'taskDefinition', kind: 'task definition', resource: taskDefinition, arn: taskDefinition.taskDefinitionArn }];
  let taskRole: iam.IRole | undefined;
  try {
    taskRole = taskDefinition.taskRole;
  } catch {
    taskRole = undefined; // an imported task definition without taskRole throws here
  }
  for (const [prop, role] of [['taskDefinition.taskRole', taskRole], ['taskDefinition.executionRole', taskDefinition.executionRole]] as const) {
    if (role) subjects.push({ prop, kind: 'IAM role', resource: role, arn: role.roleArn, global: true });
  }
  return subjects;
}

/** What the launch target was given: the tasks' VPC, subnets and security groups, the container instances by ARN. */
function launchTargetSubjects(target: TaskLaunchTarget | undefined): EnvironmentSubject[] {
  if (!target) return [];
  const o = target._options;
  return [
    ...networkSubjects('launchTarget: ', o.vpc, o.vpcSubnets, o.securityGroups),
    ...(target._containerInstances ?? []).flatMap((arn, i) => arnSubject(`launchTarget: TaskLaunchTarget.containerInstances()[${i}]`, 'container instance', arn)),
  ];
}


function describeStrategy(strategy: readonly ecs.CapacityProviderStrategy[] | undefined): string {
  return `[${(strategy ?? []).map((s) => (Token.isUnresolved(s.capacityProvider) ? '<token>' : s.capacityProvider)).join(', ')}]`;
}

function validateTarget(props: EcsTaskRunnerProps, target: TaskLaunchTarget): string[] {
  const problems: string[] = [];
  const o = target._options;
  const td = props.taskDefinition;
  if (target._kind === 'FARGATE' && !td.isFargateCompatible) {
    problems.push('launchTarget is TaskLaunchTarget.fargate(), but the task definition is not Fargate-compatible; give a Fargate task definition or another launch target');
  }
  if ((target._kind === 'EC2' || target._kind === 'CONTAINER_INSTANCES') && !td.isEc2Compatible) {
    problems.push(`launchTarget is TaskLaunchTarget.${target._kind === 'EC2' ? 'ec2' : 'containerInstances'}(), but the task definition is not EC2-compatible; `
      + 'give an EC2 task definition or TaskLaunchTarget.fargate()');
  }
  if (target._kind === 'CAPACITY_PROVIDERS' && (target._strategy ?? []).length === 0) {
    problems.push('launchTarget is TaskLaunchTarget.capacityProviders([]); give at least one capacity provider');
  }
  if (target._kind === 'CONTAINER_INSTANCES') {
    const n = target._containerInstances?.length ?? 0;
    if (n < 1 || n > 10) problems.push(`launchTarget is TaskLaunchTarget.containerInstances() with ${n} instance(s); give 1 to 10 (StartTask's limit)`);
  }
  if (target._kind === 'FARGATE' && (o.placementConstraints?.length || o.placementStrategies?.length)) {
    problems.push('launchTarget: placement constraints and strategies do not apply to Fargate');
  }
  if (target._kind === 'CAPACITY_PROVIDERS' || target._kind === 'CLUSTER_DEFAULT') {
    const strategy = target._kind === 'CLUSTER_DEFAULT' ? clusterDefaultStrategy(props.cluster) : target._strategy;
    const which = target._kind === 'CLUSTER_DEFAULT'
      ? `TaskLaunchTarget.clusterDefault(), and the cluster's default strategy (${describeStrategy(strategy)})`
      : `TaskLaunchTarget.capacityProviders(${describeStrategy(strategy)}), whose strategy`;
    const fargate = isFargateStrategy(strategy);
    if (fargate === true && !td.isFargateCompatible) {
      problems.push(`launchTarget is ${which} is Fargate's, but the task definition is not Fargate-compatible; give a Fargate-compatible task definition or another launch target`);
    }
    if (fargate === false && !td.isEc2Compatible) {
      problems.push(`launchTarget is ${which} uses EC2 capacity providers, but the task definition is not EC2-compatible; give an EC2-compatible task definition or another launch target`);
    }
    if (fargate === true && (o.placementConstraints?.length || o.placementStrategies?.length)) {
      problems.push(`launchTarget is ${which} is Fargate's: placement constraints and strategies do not apply to Fargate`);
    }
    if (fargate === false && o.assignPublicIp) {
      problems.push(`launchTarget is ${which} uses EC2 capacity providers: assignPublicIp applies to Fargate only`);
    }
    if (target._kind === 'CLUSTER_DEFAULT' && strategy !== undefined && strategy.length === 0) {
      problems.push(`launchTarget is TaskLaunchTarget.clusterDefault(), but the cluster ${props.cluster.node.path} has no default capacity provider strategy: `
        + 'call cluster.addDefaultCapacityProviderStrategy([...]), or give another launch target');
    }
  }
  const awsvpc = usesAwsVpc(td, target);
  if (awsvpc && !o.vpc && !clusterVpc(props.cluster)) {
    problems.push('launchTarget: the task definition uses the awsvpc network mode, but the cluster was imported without a VPC; give vpc in the launch target options');
  }
  if (!awsvpc && (o.vpcSubnets || o.securityGroups || o.assignPublicIp)) {
    problems.push('launchTarget: vpcSubnets, securityGroups and assignPublicIp apply only to a task definition with the awsvpc network mode');
  }
  if (o.securityGroups && o.securityGroups.length === 0) problems.push('launchTarget: securityGroups is empty; give at least one, or leave it out for a new one');
  return problems;
}

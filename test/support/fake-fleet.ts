/**
 * The fake fleet: an in-memory model of one account's ECS, Auto Scaling and EC2 state that
 * answers the real SDK v3 clients through aws-sdk-client-mock.
 *
 * ```ts
 * const fleet = new FakeFleet({ region: 'us-east-1', accountId: '123456789012' });
 * beforeEach(() => fleet.install());
 * afterEach(() => fleet.uninstall());
 *
 * fleet.addCluster('prod');
 * fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod' });
 * const stale = fleet.addContainerInstance('prod', { agentConnected: false, registeredAt: fleet.minutesAgo(30) });
 * await handler(event);                        // its module-scope ECSClient is answered by the fleet
 * expect(fleet.callsTo('autoscaling', 'SetInstanceHealth')).toHaveLength(1);
 * ```
 *
 * `install()` mocks the client *prototypes* (`mockClient(ECSClient)`), so clients created
 * anywhere, before or after, are answered. The SDK's middleware (serialization, retries) does
 * not run: an injected error reaches the caller on the first attempt.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { AUTOSCALING_HANDLERS } from './fake-fleet/autoscaling';
import { EC2_HANDLERS } from './fake-fleet/ec2';
import { ECS_HANDLERS, progressAgentUpdate as stepAgentUpdate, setTaskStatus } from './fake-fleet/ecs';
import { NotModeledError, accessDeniedError, metadata, serverError, throttlingError } from './fake-fleet/errors';
import { CommandHandler, DEFAULT_NOW, FakeFleetOptions, FleetState } from './fake-fleet/state';
import type {
  AgentUpdateStatus,
  AsgHealthStatus,
  AsgInstanceState,
  AutoScalingGroupState,
  ClusterState,
  ContainerInstanceState,
  ContainerInstanceStatus,
  DeploymentState,
  Ec2InstanceState,
  Ec2StateName,
  FleetService,
  IamRequest,
  InstanceHealthState,
  InstancePlatform,
  LaunchConfigurationState,
  LaunchTemplateState,
  LifecycleState,
  RecordedCall,
  ServiceState,
  TaskBehavior,
  TaskDefinitionState,
  TaskOutcome,
  TaskState,
  TaskStatus,
} from './fake-fleet/types';

export * from './fake-fleet/types';
export { DEFAULT_NOW, compareVersions } from './fake-fleet/state';
export type { FakeFleetOptions } from './fake-fleet/state';
export { NotModeledError } from './fake-fleet/errors';

/** `DEFAULT_NOW` minus `n` minutes (for a fleet whose clock was not moved; else use `fleet.minutesAgo`). */
export function minutesAgo(n: number): Date {
  return new Date(DEFAULT_NOW.getTime() - n * 60_000);
}

/** The AMI a new EC2 instance gets by default, by platform and architecture. */
export const DEFAULT_AMIS: Record<InstancePlatform, Record<'x86_64' | 'arm64', string>> = {
  'amazon-linux-2023': { x86_64: 'ami-0a1b2c3d4e5f60001', arm64: 'ami-0a1b2c3d4e5f60002' },
  'amazon-linux-2': { x86_64: 'ami-0a1b2c3d4e5f60003', arm64: 'ami-0a1b2c3d4e5f60004' },
  'bottlerocket': { x86_64: 'ami-0a1b2c3d4e5f60005', arm64: 'ami-0a1b2c3d4e5f60006' },
  'windows': { x86_64: 'ami-0a1b2c3d4e5f60007', arm64: 'ami-0a1b2c3d4e5f60007' },
  'external': { x86_64: '', arm64: '' },
};

/** The attributes (beyond the common ones) the ECS agent reports on each platform. */
function platformAttributes(platform: InstancePlatform): Record<string, string> {
  switch (platform) {
    case 'windows': return { 'ecs.os-type': 'windows', 'ecs.os-family': 'WINDOWS_SERVER_2022_FULL' };
    case 'bottlerocket': return { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', 'bottlerocket.variant': 'aws-ecs-2', 'bottlerocket.version': '1.32.0' };
    case 'external': return { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', 'ecs.capability.external': '' };
    default: return { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX' };
  }
}

const SERVICE_LABELS: Record<FleetService, string> = { ecs: 'ECS', autoscaling: 'AutoScaling', ec2: 'EC2' };
const HANDLERS: Record<FleetService, Record<string, CommandHandler>> = {
  ecs: ECS_HANDLERS,
  autoscaling: AUTOSCALING_HANDLERS,
  ec2: EC2_HANDLERS,
};

/** Options for an EC2 instance. */
export interface Ec2InstanceOptions {
  /** Instance id. @default - generated `i-0` + 16 hex digits */
  readonly id?: string;
  /** Instance type. @default 'm5.large' (x86_64) or 'm7g.large' (arm64) */
  readonly instanceType?: string;
  /** Architecture. @default 'x86_64' */
  readonly architecture?: 'x86_64' | 'arm64';
  /** Tags. @default {} */
  readonly tags?: Record<string, string>;
  /** Availability Zone. @default - round-robin over <region>a/b/c */
  readonly availabilityZone?: string;
  /** Launch time. @default now minus one day and a minute */
  readonly launchTime?: Date;
  /** State. @default 'running' */
  readonly state?: Ec2StateName;
  /** Instance profile ARN. @default arn:aws:iam::<account>:instance-profile/ecs-instance */
  readonly instanceProfileArn?: string;
  /** Termination protection. @default false */
  readonly disableApiTermination?: boolean;
  /** AMI. @default - the fleet's AMI for `platform` and `architecture` (see `DEFAULT_AMIS`) */
  readonly imageId?: string;
  /** What the instance runs (chooses the default AMI). @default 'amazon-linux-2023' */
  readonly platform?: InstancePlatform;
}

/** Options for a container instance (and the EC2 instance under it). */
export interface ContainerInstanceOptions {
  /** EC2 instance id; an existing one is reused, else one is created. @default - a new instance */
  readonly ec2InstanceId?: string;
  /** Agent connected. @default true */
  readonly agentConnected?: boolean;
  /** Agent update status. @default - none */
  readonly agentUpdateStatus?: AgentUpdateStatus;
  /** Agent version. @default the fleet's latestAgentVersion */
  readonly agentVersion?: string;
  /** Agent hash; `null` for "unknown" (UpdateContainerAgent -> MissingVersionException). @default - generated */
  readonly agentHash?: string | null;
  /** Docker version. @default 'DockerVersion: 25.0.8' */
  readonly dockerVersion?: string;
  /** Whether UpdateContainerAgent can update the agent (false -> MissingVersionException). @default true */
  readonly agentUpdateSupported?: boolean;
  /** Status. @default 'ACTIVE' */
  readonly status?: ContainerInstanceStatus;
  /** Registration time. @default the fleet's now minus 1 day */
  readonly registeredAt?: Date;
  /** CPU architecture. @default 'x86_64' */
  readonly architecture?: 'x86_64' | 'arm64';
  /** Extra or overriding attributes. */
  readonly attributes?: Record<string, string>;
  /** Running tasks. @default 0 */
  readonly runningTasksCount?: number;
  /** Pending tasks. @default 0 */
  readonly pendingTasksCount?: number;
  /** CONTAINER_INSTANCE_HEALTH overall status. @default 'OK' */
  readonly healthStatus?: InstanceHealthState;
  /** Container instance tags. @default {} */
  readonly tags?: Record<string, string>;
  /** Capacity provider name. @default - the group's, if any */
  readonly capacityProviderName?: string;
  /** Instance type. @default 'm5.large' (x86_64) or 'm7g.large' (arm64) */
  readonly instanceType?: string;
  /**
   * What the instance runs; sets the attributes ECS reports for it (`ecs.os-type`, `ecs.os-family`,
   * `bottlerocket.variant`, `ecs.capability.external`) and the default AMI. An `external` instance (ECS Anywhere)
   * has an `mi-` id, no EC2 instance and no AMI.
   * @default 'amazon-linux-2023' (or the group's)
   */
  readonly platform?: InstancePlatform;
  /** AMI of a new EC2 instance. @default - the group's launch template AMI, or the fleet's AMI for the platform */
  readonly imageId?: string;
}

/** Options for an instance added to an Auto Scaling group. */
export interface GroupInstanceOptions extends ContainerInstanceOptions {
  /** Lifecycle state. @default 'InService' */
  readonly lifecycleState?: LifecycleState;
  /** Health status. @default 'Healthy' */
  readonly asgHealthStatus?: AsgHealthStatus;
  /** Scale-in protection. @default false */
  readonly protectedFromScaleIn?: boolean;
  /** Launch time. @default registeredAt minus 1 minute */
  readonly launchedAt?: Date;
  /** Register a container instance (when the group has a cluster). @default true */
  readonly register?: boolean;
}

/** Options for an Auto Scaling group. */
export interface AutoScalingGroupOptions {
  /** Instances launched now. @default 0 */
  readonly instances?: number;
  /** Cluster the instances register in (must exist). @default - none (plain EC2 instances) */
  readonly cluster?: string;
  /** Minimum size. @default 0 */
  readonly minSize?: number;
  /** Maximum size. @default max(10, instances) */
  readonly maxSize?: number;
  /** Desired capacity. @default instances */
  readonly desiredCapacity?: number;
  /** Group tags (propagated to instances). @default {} */
  readonly tags?: Record<string, string>;
  /** Capacity provider name the container instances report. @default - none */
  readonly capacityProviderName?: string;
  /** Health check grace period (seconds). @default 300 */
  readonly healthCheckGracePeriod?: number;
  /** Defaults for each instance. */
  readonly instanceDefaults?: GroupInstanceOptions;
  /** Availability Zones. @default ['<region>a', '<region>b', '<region>c'] */
  readonly availabilityZones?: string[];
  /**
   * The AMI of the group's launch template (or launch configuration); `resolve:ssm:<parameter>` is kept as given.
   * @default - the fleet's AMI for the instances' platform and architecture
   */
  readonly imageId?: string;
  /** The launch template version the group launches. @default '$Latest' */
  readonly launchTemplateVersion?: string;
  /** Use a launch configuration (named `<group>-lc`) instead of a launch template. @default false */
  readonly launchConfiguration?: boolean;
}

/** Options for a service. */
export interface ServiceOptions {
  /** Desired count. @default 2 */
  readonly desiredCount?: number;
  /** Running count. @default desiredCount */
  readonly runningCount?: number;
  /** Pending count. @default 0 */
  readonly pendingCount?: number;
  /** Launch type. @default 'EC2' unless capacityProviderStrategy is given */
  readonly launchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  /** Capacity provider strategy. @default [] */
  readonly capacityProviderStrategy?: Array<{ capacityProvider: string; weight?: number; base?: number }>;
  /** Task definition family or ARN (registered if missing). @default '<name>' */
  readonly taskDefinition?: string;
  /** Rollout state of the primary deployment. @default 'COMPLETED' */
  readonly rolloutState?: 'COMPLETED' | 'FAILED' | 'IN_PROGRESS';
  /** Rollout state reason. @default - a message matching the state */
  readonly rolloutStateReason?: string;
  /** Extra (older) deployments after the primary one. @default [] */
  readonly extraDeployments?: Array<Partial<DeploymentState>>;
  /** Status. @default 'ACTIVE' */
  readonly status?: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  /** Tags. @default {} */
  readonly tags?: Record<string, string>;
}

/** Options for a task definition. */
export interface TaskDefinitionOptions {
  /** Containers. @default one essential container named after the family */
  readonly containers?: Array<{
    name: string;
    image?: string;
    essential?: boolean;
    memory?: number;
    cpu?: number;
    environment?: Record<string, string>;
    secrets?: Record<string, string>;
    /** The container's log configuration, e.g. `{ logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/api' } }`. @default - none */
    logConfiguration?: { logDriver: string; options?: Record<string, string> };
  }>;
  /** Task CPU. @default '256' */
  readonly cpu?: string;
  /** Task memory. @default '512' */
  readonly memory?: string;
  /** Network mode. @default 'bridge' */
  readonly networkMode?: TaskDefinitionState['networkMode'];
  /** Compatibilities. @default ['EC2'] */
  readonly requiresCompatibilities?: TaskDefinitionState['requiresCompatibilities'];
  /** Tags. @default {} */
  readonly tags?: Record<string, string>;
  /** Task role ARN. @default - none */
  readonly taskRoleArn?: string;
  /** Task execution role ARN. @default - none */
  readonly executionRoleArn?: string;
}

/** Options for a task placed directly (not via RunTask). */
export interface TaskOptions {
  /** Task definition family, family:revision or ARN (registered if missing). @default 'app' */
  readonly taskDefinition?: string;
  /** Last status. @default 'RUNNING' */
  readonly lastStatus?: TaskStatus;
  /** Desired status. @default 'STOPPED' if lastStatus is STOPPED, else 'RUNNING' */
  readonly desiredStatus?: TaskState['desiredStatus'];
  /** Container instance (id, ARN or EC2 id). @default - none (Fargate-like) */
  readonly containerInstance?: string;
  /** Service the task belongs to (sets group `service:<name>` and startedBy). @default - none */
  readonly service?: string;
  /** startedBy. @default - none, or the service's deployment id */
  readonly startedBy?: string;
  /** group. @default `family:<family>` or `service:<name>` */
  readonly group?: string;
  /** Outcome, for STOPPED tasks. */
  readonly outcome?: TaskOutcome;
  /** Launch type. @default 'EC2' with a container instance, else 'FARGATE' */
  readonly launchType?: TaskState['launchType'];
  /** Tags. @default {} */
  readonly tags?: Record<string, string>;
}

/** A fault to inject (see `FakeFleet.injectFault`). */
export interface FaultSpec {
  /** Only calls to this service. @default - any service */
  readonly service?: FleetService;
  /** Only this command (`DescribeTasks` or `DescribeTasksCommand`). @default - any command */
  readonly command?: string;
  /**
   * Only calls whose input passes this test, e.g. `(input) => input.cluster === 'prod'` (calls that fail it are not
   * counted for `onCall` and `times`). @default - any input
   */
  readonly when?: (input: any) => boolean;
  /**
   * What the call rejects with: `throttle`, `http500`, `access-denied`, or a given Error.
   * @default - no error: the call is answered normally (after `latencyMs`)
   */
  readonly error?: 'throttle' | 'http500' | 'access-denied' | Error;
  /** Fire first on the Nth matching call (1-based). @default 1 */
  readonly onCall?: number;
  /** How many matching calls it fires on. @default 1 when onCall is set, else every matching call */
  readonly times?: number;
  /** Delay (real timers) before the answer or the error. @default 0 */
  readonly latencyMs?: number;
}

interface ActiveFault {
  spec: FaultSpec;
  command?: string;
  seen: number;
}

/** Filter for `iamRequests`. */
export interface IamRequestFilter {
  /** Only this service. */
  readonly service?: FleetService;
  /** Only this command. */
  readonly command?: string;
}

function stripCommand(name: string): string {
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** The fake fleet. Builders add state, mutators change it, `install()` makes the SDK answer from it. */
export class FakeFleet extends FleetState {
  /** Every call, in the order the calls were made. */
  public readonly calls: RecordedCall[] = [];

  /** The aws-sdk-client-mock stubs while installed (usable with aws-sdk-client-mock-jest matchers). */
  public mocks?: { ecs: AwsStub<any, any, any>; autoscaling: AwsStub<any, any, any>; ec2: AwsStub<any, any, any> };

  private faults: ActiveFault[] = [];
  private readonly groupDefaults = new Map<string, GroupInstanceOptions>();
  private ec2Counter = 0;
  private azCounter = 0;

  constructor(options: FakeFleetOptions = {}) {
    super(options);
  }

  // ================================================================ lifecycle

  /** Mock ECSClient, AutoScalingClient and EC2Client so that every instance is answered by this fleet. */
  public install(): this {
    if (this.mocks) return this;
    const ecs = mockClient(ECSClient);
    const autoscaling = mockClient(AutoScalingClient);
    const ec2 = mockClient(EC2Client);
    ecs.send.callsFake((command: any) => this.dispatch('ecs', command));
    autoscaling.send.callsFake((command: any) => this.dispatch('autoscaling', command));
    ec2.send.callsFake((command: any) => this.dispatch('ec2', command));
    this.mocks = { ecs, autoscaling, ec2 };
    return this;
  }

  /** Restore the real clients' `send`. Safe to call when not installed. */
  public uninstall(): void {
    if (!this.mocks) return;
    this.mocks.ecs.restore();
    this.mocks.autoscaling.restore();
    this.mocks.ec2.restore();
    this.mocks = undefined;
  }

  // ================================================================ recording

  /** Recorded calls to one command (`'DescribeContainerInstances'`, with or without `Command`). */
  public callsTo(service: FleetService, command: string): RecordedCall[] {
    const name = stripCommand(command);
    return this.calls.filter((c) => c.service === service && c.command === name);
  }

  /** Every IAM request the recorded calls made, in order (optionally of one service/command). */
  public iamRequests(filter: IamRequestFilter = {}): IamRequest[] {
    const command = filter.command ? stripCommand(filter.command) : undefined;
    return this.calls
      .filter((c) => (!filter.service || c.service === filter.service) && (!command || c.command === command))
      .flatMap((c) => c.iam);
  }

  /** The distinct IAM actions the recorded calls needed, sorted. */
  public iamActions(): string[] {
    return [...new Set(this.iamRequests().map((r) => r.action))].sort();
  }

  /** Forget the recorded calls (state and faults stay). */
  public resetCalls(): void {
    this.calls.length = 0;
  }

  // ================================================================ faults

  /**
   * Make matching calls fail and/or answer late.
   *
   * With `onCall: n` the fault fires on the Nth matching call (and on the next `times - 1`);
   * with only `times` it fires on the first `times` matching calls; with neither, on every one.
   * Counting starts when the fault is injected. Faulted calls are recorded with `faulted: true`,
   * their error, and no IAM requests (the error happens before authorization), except
   * `access-denied`, which records the action with resource `*`.
   */
  public injectFault(spec: FaultSpec): this {
    if (spec.onCall !== undefined && (!Number.isInteger(spec.onCall) || spec.onCall < 1)) {
      throw new Error(`injectFault: onCall must be an integer >= 1, got ${spec.onCall}`);
    }
    this.faults.push({ spec, command: spec.command ? stripCommand(spec.command) : undefined, seen: 0 });
    return this;
  }

  /** Remove every injected fault. */
  public clearFaults(): void {
    this.faults = [];
  }

  // ================================================================ builders

  /** Add an ACTIVE cluster. */
  public addCluster(name: string, options: { tags?: Record<string, string> } = {}): ClusterState {
    if (this.clusters.has(name)) throw new Error(`FakeFleet: cluster ${name} already exists`);
    const cluster: ClusterState = { name, arn: this.clusterArn(name), status: 'ACTIVE', tags: { ...options.tags } };
    this.clusters.set(name, cluster);
    return cluster;
  }

  /** Add a running EC2 instance (not in any group). */
  public addEc2Instance(options: Ec2InstanceOptions = {}): Ec2InstanceState {
    const architecture = options.architecture ?? 'x86_64';
    this.ec2Counter += 1;
    const instance: Ec2InstanceState = {
      id: options.id ?? `i-0${this.hex(16)}`,
      state: options.state ?? 'running',
      tags: { ...options.tags },
      instanceType: options.instanceType ?? (architecture === 'arm64' ? 'm7g.large' : 'm5.large'),
      availabilityZone: options.availabilityZone ?? this.nextAz(),
      imageId: options.imageId ?? DEFAULT_AMIS[options.platform ?? 'amazon-linux-2023'][architecture],
      launchTime: options.launchTime ?? new Date(this.now.getTime() - 86_400_000 - 60_000),
      privateIpAddress: `10.0.${Math.floor(this.ec2Counter / 250)}.${(this.ec2Counter % 250) + 4}`,
      architecture,
      instanceProfileArn: options.instanceProfileArn ?? `arn:aws:iam::${this.accountId}:instance-profile/ecs-instance`,
      disableApiTermination: options.disableApiTermination ?? false,
    };
    if (this.ec2Instances.has(instance.id)) throw new Error(`FakeFleet: EC2 instance ${instance.id} already exists`);
    this.ec2Instances.set(instance.id, instance);
    return instance;
  }

  /**
   * Register a container instance in a cluster (creating its EC2 instance unless
   * `ec2InstanceId` names an existing one).
   */
  public addContainerInstance(cluster: string, options: ContainerInstanceOptions = {}): ContainerInstanceState {
    const c = this.clusters.get(cluster);
    if (!c) throw new Error(`FakeFleet: add cluster ${cluster} before its container instances`);
    const registeredAt = options.registeredAt ?? new Date(this.now.getTime() - 86_400_000);
    const platform = options.platform ?? 'amazon-linux-2023';
    if (platform === 'windows' && options.architecture === 'arm64') throw new Error('FakeFleet: Windows container instances are x86_64');
    // An ECS Anywhere instance is an SSM managed instance (mi-...), not an EC2 instance.
    const ec2 = platform === 'external' ? undefined : (options.ec2InstanceId && this.ec2Instances.get(options.ec2InstanceId))
      || this.addEc2Instance({
        id: options.ec2InstanceId,
        instanceType: options.instanceType,
        architecture: options.architecture,
        launchTime: new Date(registeredAt.getTime() - 60_000),
        imageId: options.imageId,
        platform,
      });
    const ec2InstanceId = ec2?.id ?? options.ec2InstanceId ?? `mi-0${this.hex(16)}`;
    const id = this.hex(32);
    const ci: ContainerInstanceState = {
      id,
      arn: this.arn('ecs', `container-instance/${cluster}/${id}`),
      clusterName: cluster,
      ec2InstanceId,
      agentConnected: options.agentConnected ?? true,
      agentUpdateStatus: options.agentUpdateStatus,
      versionInfo: {
        agentVersion: options.agentVersion ?? this.latestAgentVersion,
        agentHash: options.agentHash === null ? undefined : options.agentHash ?? this.hex(8),
        dockerVersion: options.dockerVersion ?? 'DockerVersion: 25.0.8',
      },
      agentUpdateSupported: options.agentUpdateSupported ?? true,
      status: options.status ?? 'ACTIVE',
      registeredAt,
      attributes: {
        ...platformAttributes(platform),
        'ecs.cpu-architecture': ec2?.architecture ?? options.architecture ?? 'x86_64',
        ...(ec2 ? {
          'ecs.ami-id': ec2.imageId,
          'ecs.instance-type': ec2.instanceType,
          'ecs.availability-zone': ec2.availabilityZone,
        } : {}),
        'ecs.capability.execution-role-awslogs': '',
        ...options.attributes,
      },
      runningTasksCount: options.runningTasksCount ?? 0,
      pendingTasksCount: options.pendingTasksCount ?? 0,
      healthStatus: options.healthStatus ?? 'OK',
      tags: { ...options.tags },
      capacityProviderName: options.capacityProviderName,
      cpu: 2048,
      memory: 7680,
      version: 1,
    };
    this.containerInstances.set(ci.arn, ci);
    return ci;
  }

  /**
   * Add an Auto Scaling group; with `instances: n` it launches n EC2 instances (tagged
   * `aws:autoscaling:groupName`), and with `cluster` registers each as a container instance.
   */
  public addAutoScalingGroup(name: string, options: AutoScalingGroupOptions = {}): AutoScalingGroupState {
    if (this.autoScalingGroups.has(name)) throw new Error(`FakeFleet: Auto Scaling group ${name} already exists`);
    if (options.cluster && !this.clusters.has(options.cluster)) {
      throw new Error(`FakeFleet: add cluster ${options.cluster} before group ${name}`);
    }
    const count = options.instances ?? 0;
    const groupId = this.uuid();
    const group: AutoScalingGroupState = {
      name,
      arn: this.arn('autoscaling', `autoScalingGroup:${groupId}:autoScalingGroupName/${name}`),
      groupId,
      minSize: options.minSize ?? 0,
      maxSize: options.maxSize ?? Math.max(10, count),
      desiredCapacity: options.desiredCapacity ?? count,
      healthCheckGracePeriod: options.healthCheckGracePeriod ?? 300,
      healthCheckType: 'EC2',
      instances: [],
      tags: { ...options.tags },
      clusterName: options.cluster,
      capacityProviderName: options.capacityProviderName,
      availabilityZones: options.availabilityZones ?? ['a', 'b', 'c'].map((z) => `${this.region}${z}`),
      launchTemplateName: `${name}-lt`,
      createdAt: new Date(this.now.getTime() - 7 * 86_400_000),
      platform: options.instanceDefaults?.platform,
    };
    // The group's launch template (or configuration), named after it, with ids derived from the group's (so adding
    // them changed no other generated id).
    const defaults = options.instanceDefaults ?? {};
    const imageId = options.imageId ?? DEFAULT_AMIS[defaults.platform ?? 'amazon-linux-2023'][defaults.architecture ?? 'x86_64'];
    const instanceType = defaults.instanceType ?? (defaults.architecture === 'arm64' ? 'm7g.large' : 'm5.large');
    if (options.launchConfiguration) {
      const lc: LaunchConfigurationState = {
        name: `${name}-lc`,
        arn: this.arn('autoscaling', `launchConfiguration:${groupId}:launchConfigurationName/${name}-lc`),
        imageId,
        instanceType,
        createdAt: group.createdAt,
      };
      this.launchConfigurations.set(lc.name, lc);
      group.launchConfigurationName = lc.name;
    } else {
      const template: LaunchTemplateState = {
        id: `lt-${groupId.replace(/-/g, '').slice(0, 17)}`,
        name: group.launchTemplateName,
        versions: [{ versionNumber: 1, imageId, instanceType, createdAt: group.createdAt }],
        defaultVersion: 1,
        createdAt: group.createdAt,
      };
      this.launchTemplates.set(template.id, template);
      group.launchTemplateId = template.id;
      group.launchTemplateVersion = options.launchTemplateVersion ?? '$Latest';
    }
    this.autoScalingGroups.set(name, group);
    this.groupDefaults.set(name, options.instanceDefaults ?? {});
    for (let i = 0; i < count; i++) this.addInstanceToGroup(name, options.instanceDefaults);
    return group;
  }

  /** Launch one instance into a group (and register it in the group's cluster). */
  public addInstanceToGroup(groupName: string, options: GroupInstanceOptions = {}): {
    ec2: Ec2InstanceState; member: AsgInstanceState; containerInstance?: ContainerInstanceState;
  } {
    const group = this.autoScalingGroups.get(groupName);
    if (!group) throw new Error(`FakeFleet: no Auto Scaling group ${groupName}`);
    const registeredAt = options.registeredAt ?? new Date(this.now.getTime() - 86_400_000);
    const launchedAt = options.launchedAt ?? new Date(registeredAt.getTime() - 60_000);
    const az = group.availabilityZones[group.instances.length % group.availabilityZones.length];
    const platform = options.platform ?? group.platform;
    // An instance launches with the group's current AMI; an SSM parameter resolves to the platform's AMI.
    const groupImage = this.groupImageId(group);
    const imageId = options.imageId ?? (groupImage && !groupImage.startsWith('resolve:ssm:') ? groupImage : undefined);
    const ec2 = this.addEc2Instance({
      id: options.ec2InstanceId,
      instanceType: options.instanceType,
      architecture: options.architecture,
      availabilityZone: az,
      launchTime: launchedAt,
      tags: { ...group.tags, 'Name': group.name, 'aws:autoscaling:groupName': group.name },
      imageId,
      platform,
    });
    const member: AsgInstanceState = {
      instanceId: ec2.id,
      lifecycleState: options.lifecycleState ?? 'InService',
      healthStatus: options.asgHealthStatus ?? 'Healthy',
      protectedFromScaleIn: options.protectedFromScaleIn ?? false,
      availabilityZone: az,
      instanceType: ec2.instanceType,
      launchedAt,
    };
    group.instances.push(member);
    let containerInstance: ContainerInstanceState | undefined;
    if (group.clusterName && options.register !== false) {
      containerInstance = this.addContainerInstance(group.clusterName, {
        ...options,
        platform,
        ec2InstanceId: ec2.id,
        registeredAt,
        capacityProviderName: options.capacityProviderName ?? group.capacityProviderName,
      });
    }
    return { ec2, member, containerInstance };
  }

  /** Register a task definition revision (revision = previous + 1). */
  public registerTaskDefinition(family: string, options: TaskDefinitionOptions = {}): TaskDefinitionState {
    const revision = 1 + Math.max(0, ...[...this.taskDefinitions.values()].filter((t) => t.family === family).map((t) => t.revision));
    const td: TaskDefinitionState = {
      family,
      revision,
      arn: this.arn('ecs', `task-definition/${family}:${revision}`),
      status: 'ACTIVE',
      containers: (options.containers ?? [{ name: family }]).map((c) => ({
        name: c.name,
        image: c.image ?? `public.ecr.aws/docker/library/${c.name}:latest`,
        essential: c.essential ?? true,
        memory: c.memory,
        cpu: c.cpu,
        ...(c.environment ? { environment: { ...c.environment } } : {}),
        ...(c.secrets ? { secrets: { ...c.secrets } } : {}),
        ...(c.logConfiguration ? { logConfiguration: structuredClone(c.logConfiguration) } : {}),
      })),
      cpu: options.cpu ?? '256',
      memory: options.memory ?? '512',
      networkMode: options.networkMode ?? 'bridge',
      requiresCompatibilities: options.requiresCompatibilities ?? ['EC2'],
      registeredAt: this.now,
      tags: { ...options.tags },
      ...(options.taskRoleArn ? { taskRoleArn: options.taskRoleArn } : {}),
      ...(options.executionRoleArn ? { executionRoleArn: options.executionRoleArn } : {}),
    };
    this.taskDefinitions.set(td.arn, td);
    return td;
  }

  /** Add a service with one PRIMARY deployment (plus `extraDeployments`). */
  public addService(cluster: string, name: string, options: ServiceOptions = {}): ServiceState {
    if (!this.clusters.has(cluster)) throw new Error(`FakeFleet: add cluster ${cluster} before service ${name}`);
    const td = this.findTaskDefinition(options.taskDefinition ?? name) ?? this.registerTaskDefinition(options.taskDefinition ?? name);
    const desiredCount = options.desiredCount ?? 2;
    const runningCount = options.runningCount ?? desiredCount;
    const pendingCount = options.pendingCount ?? 0;
    const rolloutState = options.rolloutState ?? 'COMPLETED';
    const createdAt = new Date(this.now.getTime() - 3_600_000);
    const primaryId = `ecs-svc/${this.digits(19)}`;
    const primary: DeploymentState = {
      id: primaryId,
      status: 'PRIMARY',
      taskDefinition: td.arn,
      desiredCount,
      runningCount,
      pendingCount,
      failedTasks: rolloutState === 'FAILED' ? 3 : 0,
      rolloutState,
      rolloutStateReason: options.rolloutStateReason ?? {
        COMPLETED: `ECS deployment ${primaryId} completed.`,
        FAILED: 'ECS deployment circuit breaker: tasks failed to start.',
        IN_PROGRESS: `ECS deployment ${primaryId} in progress.`,
      }[rolloutState],
      createdAt,
      updatedAt: this.now,
    };
    const extra = (options.extraDeployments ?? []).map((d): DeploymentState => ({
      id: `ecs-svc/${this.digits(19)}`,
      status: 'ACTIVE',
      taskDefinition: td.arn,
      desiredCount: 0,
      runningCount: 0,
      pendingCount: 0,
      failedTasks: 0,
      createdAt: new Date(createdAt.getTime() - 3_600_000),
      updatedAt: createdAt,
      ...d,
    }));
    const service: ServiceState = {
      name,
      arn: this.arn('ecs', `service/${cluster}/${name}`),
      clusterName: cluster,
      status: options.status ?? 'ACTIVE',
      desiredCount,
      runningCount,
      pendingCount,
      launchType: options.capacityProviderStrategy ? options.launchType : options.launchType ?? 'EC2',
      capacityProviderStrategy: [...(options.capacityProviderStrategy ?? [])],
      taskDefinition: td.arn,
      deployments: [primary, ...extra],
      schedulingStrategy: 'REPLICA',
      createdAt,
      tags: { ...options.tags },
      events: runningCount >= desiredCount
        ? [{ id: this.uuid(), createdAt: this.now, message: `(service ${name}) has reached a steady state.` }]
        : [],
    };
    this.services.set(service.arn, service);
    return service;
  }

  /** Place a task directly (as a service or an earlier RunTask would have). */
  public addTask(cluster: string, options: TaskOptions = {}): TaskState {
    if (!this.clusters.has(cluster)) throw new Error(`FakeFleet: add cluster ${cluster} before its tasks`);
    const tdRef = options.taskDefinition ?? 'app';
    const td = this.findTaskDefinition(tdRef) ?? this.registerTaskDefinition(tdRef.replace(/^.*task-definition\//, '').split(':')[0]);
    const ci = options.containerInstance ? this.requireContainerInstance(options.containerInstance) : undefined;
    const service = options.service ? this.findService(cluster, options.service) : undefined;
    if (options.service && !service) throw new Error(`FakeFleet: no service ${options.service} in ${cluster}`);
    const id = this.hex(32);
    const lastStatus = options.lastStatus ?? 'RUNNING';
    const task: TaskState = {
      id,
      arn: this.arn('ecs', `task/${cluster}/${id}`),
      clusterName: cluster,
      taskDefinitionArn: td.arn,
      lastStatus: 'PROVISIONING',
      desiredStatus: options.desiredStatus ?? (lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING'),
      containers: td.containers.map((c) => ({
        name: c.name,
        arn: this.arn('ecs', `container/${cluster}/${id}/${this.uuid()}`),
        image: c.image,
        lastStatus: 'PENDING',
        essential: c.essential,
      })),
      startedBy: options.startedBy ?? service?.deployments[0]?.id,
      group: options.group ?? (service ? `service:${service.name}` : `family:${td.family}`),
      containerInstanceArn: ci?.arn,
      launchType: options.launchType ?? (ci ? 'EC2' : 'FARGATE'),
      capacityProviderName: ci?.capacityProviderName,
      createdAt: new Date(this.now.getTime() - 600_000),
      tags: { ...options.tags },
      script: [],
      outcome: options.outcome,
    };
    this.tasks.set(task.arn, task);
    if (ci) ci.pendingTasksCount += 1;
    setTaskStatus(this, task, lastStatus);
    return task;
  }

  // ================================================================ look-ups for tests

  /** A container instance by id, ARN or EC2 instance id; throws if unknown. */
  public requireContainerInstance(ref: string): ContainerInstanceState {
    const ci = this.findContainerInstance(ref);
    if (!ci) throw new Error(`FakeFleet: no container instance ${ref}`);
    return ci;
  }

  /** An Auto Scaling group by name; throws if unknown. */
  public requireGroup(name: string): AutoScalingGroupState {
    const g = this.autoScalingGroups.get(name);
    if (!g) throw new Error(`FakeFleet: no Auto Scaling group ${name}`);
    return g;
  }

  /** An EC2 instance by id; throws if unknown. */
  public requireEc2Instance(id: string): Ec2InstanceState {
    const i = this.ec2Instances.get(id);
    if (!i) throw new Error(`FakeFleet: no EC2 instance ${id}`);
    return i;
  }

  /** A task by ARN or id; throws if unknown. */
  public requireTask(ref: string): TaskState {
    const t = [...this.tasks.values()].find((x) => x.arn === ref || x.id === ref);
    if (!t) throw new Error(`FakeFleet: no task ${ref}`);
    return t;
  }

  /** Container instances of a cluster (all statuses), in registration order. */
  public containerInstancesOf(cluster: string): ContainerInstanceState[] {
    return [...this.containerInstances.values()].filter((ci) => ci.clusterName === cluster);
  }

  /** The group membership of an EC2 instance, if any. */
  public groupMembership(instanceId: string): { group: AutoScalingGroupState; member: AsgInstanceState } | undefined {
    return this.findGroupOfInstance(instanceId);
  }

  // ================================================================ mutators

  /** Set whether a container instance's agent is connected (ref: id, ARN or EC2 id). */
  public setAgentConnected(ref: string, connected: boolean): void {
    const ci = this.requireContainerInstance(ref);
    ci.agentConnected = connected;
    ci.version += 1;
  }

  /** Set a container instance's status (e.g. DRAINING). */
  public setContainerInstanceStatus(ref: string, status: ContainerInstanceStatus, statusReason?: string): void {
    const ci = this.requireContainerInstance(ref);
    ci.status = status;
    ci.statusReason = statusReason;
    ci.version += 1;
  }

  /** Set the CONTAINER_INSTANCE_HEALTH overall status. */
  public setContainerInstanceHealth(ref: string, health: InstanceHealthState): void {
    this.requireContainerInstance(ref).healthStatus = health;
  }

  /** Set the agent version (and optionally hash; `null` = unknown). */
  public setAgentVersion(ref: string, agentVersion: string | undefined, agentHash?: string | null): void {
    const ci = this.requireContainerInstance(ref);
    ci.versionInfo = {
      ...ci.versionInfo,
      agentVersion,
      agentHash: agentHash === null ? undefined : agentHash ?? ci.versionInfo.agentHash,
    };
    ci.version += 1;
  }

  /**
   * Step a pending agent update one state (PENDING -> STAGING -> STAGED -> UPDATING -> UPDATED),
   * or set it to `to` (e.g. `FAILED`). Reaching UPDATED installs `latestAgentVersion`.
   */
  public progressAgentUpdate(ref: string, to?: AgentUpdateStatus): void {
    stepAgentUpdate(this, this.requireContainerInstance(ref), to);
  }

  /** Change any container instance fields not covered by a mutator. */
  public updateContainerInstance(ref: string, patch: Partial<Omit<ContainerInstanceState, 'id' | 'arn'>>): ContainerInstanceState {
    const ci = this.requireContainerInstance(ref);
    Object.assign(ci, patch);
    ci.version += 1;
    return ci;
  }

  /** Set an instance's Auto Scaling health status directly. */
  public setAsgHealth(instanceId: string, health: AsgHealthStatus): void {
    const found = this.findGroupOfInstance(instanceId);
    if (!found) throw new Error(`FakeFleet: ${instanceId} is not in an Auto Scaling group`);
    found.member.healthStatus = health;
  }

  /** Set an instance's Auto Scaling lifecycle state directly. */
  public setLifecycleState(instanceId: string, state: LifecycleState): void {
    const found = this.findGroupOfInstance(instanceId);
    if (!found) throw new Error(`FakeFleet: ${instanceId} is not in an Auto Scaling group`);
    found.member.lifecycleState = state;
  }

  /** Turn an EC2 instance's termination protection on or off (EC2 TerminateInstances then fails with OperationNotPermitted). */
  public setTerminationProtection(instanceId: string, on: boolean): void {
    this.requireEc2Instance(instanceId).disableApiTermination = on;
  }

  /** Set an EC2 instance's state directly. */
  public setEc2State(instanceId: string, state: Ec2StateName): void {
    this.requireEc2Instance(instanceId).state = state;
  }

  /** Replace a cluster's tags. */
  public setClusterTags(name: string, tags: Record<string, string>): void {
    const cluster = this.clusters.get(name);
    if (!cluster) throw new Error(`FakeFleet: no cluster ${name}`);
    cluster.tags = { ...tags };
  }

  /**
   * Roll a new AMI into a group, as a stack update would: a new launch template version with `imageId` (made the
   * default when the group launches `$Default`, and the group's version when it names one), or a new launch
   * configuration `<group>-lc-<n>` for a group that uses one. Instances already running keep their AMI.
   */
  public setGroupImage(groupName: string, imageId: string): void {
    const group = this.requireGroup(groupName);
    if (group.launchConfigurationName !== undefined) {
      const previous = this.launchConfigurations.get(group.launchConfigurationName)!;
      const n = [...this.launchConfigurations.keys()].filter((k) => k.startsWith(`${groupName}-lc`)).length + 1;
      const name = `${groupName}-lc-${n}`;
      this.launchConfigurations.set(name, { ...previous, name, arn: previous.arn.replace(/launchConfigurationName\/.*$/, `launchConfigurationName/${name}`), imageId, createdAt: this.now });
      group.launchConfigurationName = name;
      return;
    }
    const template = this.launchTemplates.get(group.launchTemplateId!)!;
    const versionNumber = template.versions.length + 1;
    template.versions.push({ ...template.versions[template.versions.length - 1], versionNumber, imageId, createdAt: this.now });
    if (group.launchTemplateVersion === '$Default') template.defaultVersion = versionNumber;
    else if (group.launchTemplateVersion !== '$Latest') group.launchTemplateVersion = String(versionNumber);
  }

  /** Change a service (counts, rollout, status...); `rolloutState`/`rolloutStateReason` go to the PRIMARY deployment. */
  public updateService(cluster: string, name: string, patch: Partial<Pick<ServiceState,
  'desiredCount' | 'runningCount' | 'pendingCount' | 'status' | 'tags' | 'events'>> & {
    rolloutState?: DeploymentState['rolloutState']; rolloutStateReason?: string;
  }): ServiceState {
    const s = this.findService(cluster, name);
    if (!s) throw new Error(`FakeFleet: no service ${name} in ${cluster}`);
    const { rolloutState, rolloutStateReason, ...rest } = patch;
    Object.assign(s, rest);
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    if (primary) {
      if (rolloutState) primary.rolloutState = rolloutState;
      if (rolloutStateReason) primary.rolloutStateReason = rolloutStateReason;
      if (patch.desiredCount !== undefined) primary.desiredCount = patch.desiredCount;
      if (patch.runningCount !== undefined) primary.runningCount = patch.runningCount;
      if (patch.pendingCount !== undefined) primary.pendingCount = patch.pendingCount;
      primary.updatedAt = this.now;
    }
    return s;
  }

  /**
   * Set how tasks of a family (`*` = any) behave after RunTask: the lifecycle DescribeTasks
   * steps through, how they end, or a placement failure.
   */
  public setTaskBehavior(family: string, behavior: TaskBehavior): void {
    this.taskBehaviors.set(family, behavior);
  }

  /** Move a task to a status now (STOPPED applies `outcome`, or the task's own). */
  public setTaskStatus(ref: string, status: TaskStatus, outcome?: TaskOutcome): void {
    const t = this.requireTask(ref);
    if (outcome) t.outcome = outcome;
    t.script = [];
    setTaskStatus(this, t, status);
  }

  /**
   * Let time pass for the Auto Scaling groups: instances in Terminating states finish
   * (EC2 `terminated`, container instance INACTIVE and disconnected, removed from the group),
   * EC2 instances `shutting-down` become `terminated`, and each group launches new instances
   * (registered in its cluster) until its InService/Pending count reaches desired capacity.
   * Returns the instances launched.
   */
  public reconcile(): Ec2InstanceState[] {
    const launched: Ec2InstanceState[] = [];
    for (const i of this.ec2Instances.values()) {
      if (i.state === 'shutting-down') i.state = 'terminated';
    }
    for (const group of this.autoScalingGroups.values()) {
      for (const m of [...group.instances]) {
        const ec2 = this.ec2Instances.get(m.instanceId);
        const gone = m.lifecycleState.startsWith('Terminating') || ec2?.state === 'terminated' || m.healthStatus === 'Unhealthy';
        if (!gone) continue;
        if (ec2) ec2.state = 'terminated';
        group.instances.splice(group.instances.indexOf(m), 1);
      }
      const active = group.instances.filter((m) => m.lifecycleState === 'InService' || m.lifecycleState.startsWith('Pending')).length;
      for (let n = active; n < group.desiredCapacity; n++) {
        launched.push(this.addInstanceToGroup(group.name, {
          ...this.groupDefaults.get(group.name),
          registeredAt: this.now,
          launchedAt: this.now,
        }).ec2);
      }
    }
    for (const ci of this.containerInstances.values()) {
      if (this.ec2Instances.get(ci.ec2InstanceId)?.state === 'terminated' && ci.status !== 'INACTIVE') {
        ci.status = 'INACTIVE';
        ci.agentConnected = false;
        ci.version += 1;
      }
    }
    return launched;
  }

  private nextAz(): string {
    this.azCounter += 1;
    return `${this.region}${'abc'[(this.azCounter - 1) % 3]}`;
  }

  // ================================================================ dispatch

  /**
   * Answers one call by its operation name (`'RunTask'`), as the installed clients do, and records it: for calls
   * that reach the fleet another way (a bundle's calls through the AWS stand-in, an answer that lets the fleet act
   * before it fails). Throws the SDK error the fleet would.
   */
  public async handle(service: FleetService, operation: string, input: unknown): Promise<any> {
    return this.dispatch(service, { constructor: { name: `${stripCommand(operation)}Command` }, input });
  }

  private async dispatch(service: FleetService, command: any): Promise<any> {
    const name = stripCommand(command?.constructor?.name ?? 'UnknownCommand');
    const input = command?.input ?? {};
    const record: RecordedCall = { service, command: name, input: copy(input), iam: [], at: this.now };
    this.calls.push(record);

    const fault = this.matchFault(service, name, input);
    if (fault?.spec.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.spec.latencyMs));
    if (fault?.spec.error !== undefined) {
      record.faulted = true;
      const error = this.faultError(service, name, fault.spec.error);
      if (fault.spec.error === 'access-denied') record.iam.push({ action: `${service}:${name}`, resource: '*', context: {} });
      record.error = error;
      throw error;
    }

    const handler = HANDLERS[service][name];
    if (!handler) {
      const error = new NotModeledError(SERVICE_LABELS[service], `${name}Command`);
      record.error = error;
      throw error;
    }
    try {
      const output = handler(this, input, { authorize: (action, resource, context = {}) => record.iam.push({ action, resource, context }) });
      const result = { ...(output as object), $metadata: metadata(200) };
      record.output = copy(result);
      return result;
    } catch (error) {
      record.error = error as Error;
      throw error;
    }
  }

  private matchFault(service: FleetService, command: string, input: unknown): ActiveFault | undefined {
    let chosen: ActiveFault | undefined;
    for (const f of this.faults) {
      if (f.spec.service && f.spec.service !== service) continue;
      if (f.command && f.command !== command) continue;
      if (f.spec.when && !f.spec.when(input)) continue;
      f.seen += 1;
      const first = f.spec.onCall ?? 1;
      const times = f.spec.times ?? (f.spec.onCall !== undefined ? 1 : Infinity);
      if (!chosen && f.seen >= first && f.seen < first + times) chosen = f;
    }
    return chosen;
  }

  private faultError(service: FleetService, command: string, error: NonNullable<FaultSpec['error']>): Error {
    if (error instanceof Error) return error;
    switch (error) {
      case 'throttle': return throttlingError(service);
      case 'http500': return serverError(service);
      case 'access-denied': return accessDeniedError(service, `${service}:${command}`);
    }
    throw new Error(`FakeFleet: unknown fault error ${String(error)}`);
  }
}

/**
 * State and record types of the fake fleet.
 *
 * Every `*State` object is the fleet's own live record: tests may read it, and
 * may change it directly when no mutator fits, but the mutators on `FakeFleet`
 * keep related records (EC2 tags, ASG membership, task counts) consistent.
 */

/** The AWS services the fake fleet answers. */
export type FleetService = 'ecs' | 'autoscaling' | 'ec2';

/** ECS container instance status, as DescribeContainerInstances reports it. */
export type ContainerInstanceStatus = 'ACTIVE' | 'DRAINING' | 'REGISTERING' | 'DEREGISTERING' | 'REGISTRATION_FAILED' | 'INACTIVE';

/** ECS container agent update status. */
export type AgentUpdateStatus = 'PENDING' | 'STAGING' | 'STAGED' | 'UPDATING' | 'UPDATED' | 'FAILED';

/** Overall status of the CONTAINER_INSTANCE_HEALTH check. */
export type InstanceHealthState = 'OK' | 'IMPAIRED' | 'INSUFFICIENT_DATA' | 'INITIALIZING';

/** Auto Scaling instance lifecycle state (a subset: the ones the constructs meet). */
export type LifecycleState =
  | 'Pending' | 'Pending:Wait' | 'Pending:Proceed' | 'InService' | 'Standby'
  | 'Terminating' | 'Terminating:Wait' | 'Terminating:Proceed' | 'Terminated'
  | 'Detaching' | 'Detached' | 'EnteringStandby';

/** Auto Scaling health status as SetInstanceHealth takes it. */
export type AsgHealthStatus = 'Healthy' | 'Unhealthy';

/** EC2 instance state names. */
export type Ec2StateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** ECS task status values. */
export type TaskStatus = 'PROVISIONING' | 'PENDING' | 'ACTIVATING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'DEPROVISIONING' | 'STOPPED';

/** An ECS cluster. */
export interface ClusterState {
  /** Cluster name. */
  name: string;
  /** `arn:aws:ecs:<region>:<account>:cluster/<name>`. */
  arn: string;
  /** `ACTIVE` unless changed by a test. */
  status: 'ACTIVE' | 'INACTIVE' | 'PROVISIONING' | 'DEPROVISIONING' | 'FAILED';
  /** Resource tags. */
  tags: Record<string, string>;
}

/** The container agent and Docker versions of a container instance. */
export interface VersionInfoState {
  /** e.g. `1.95.0`; undefined means ECS cannot tell (UpdateContainerAgent -> MissingVersionException). */
  agentVersion?: string;
  /** e.g. `a8b0f3b2`; undefined means ECS cannot tell (UpdateContainerAgent -> MissingVersionException). */
  agentHash?: string;
  /** e.g. `DockerVersion: 25.0.8`. */
  dockerVersion?: string;
}

/** An ECS container instance. */
export interface ContainerInstanceState {
  /** The 32-hex-digit id (last part of the ARN). */
  id: string;
  /** `arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>`. */
  arn: string;
  /** Name of the cluster it is registered in. */
  clusterName: string;
  /** The EC2 instance it runs on. */
  ec2InstanceId: string;
  /** Whether the agent is connected to ECS. */
  agentConnected: boolean;
  /** Agent update status; undefined when no update was ever requested. */
  agentUpdateStatus?: AgentUpdateStatus;
  /** Agent and Docker versions. */
  versionInfo: VersionInfoState;
  /** Whether UpdateContainerAgent can update this agent (false -> MissingVersionException). */
  agentUpdateSupported: boolean;
  /** Registration status. */
  status: ContainerInstanceStatus;
  /** Reason for the status, if any. */
  statusReason?: string;
  /** When it registered. */
  registeredAt: Date;
  /** Attributes, e.g. `ecs.os-type`, `ecs.cpu-architecture`, `ecs.ami-id`, `ecs.instance-type`. */
  attributes: Record<string, string>;
  /** Running tasks (kept in step by RunTask/StopTask). */
  runningTasksCount: number;
  /** Pending tasks. */
  pendingTasksCount: number;
  /** Overall CONTAINER_INSTANCE_HEALTH status. */
  healthStatus: InstanceHealthState;
  /** Resource tags (returned only with `include: ['TAGS']`). */
  tags: Record<string, string>;
  /** Capacity provider, when registered through one. */
  capacityProviderName?: string;
  /** Registered CPU units. */
  cpu: number;
  /** Registered memory (MiB). */
  memory: number;
  /** Version counter ECS bumps on every change. */
  version: number;
}

/** An instance inside an Auto Scaling group. */
export interface AsgInstanceState {
  /** EC2 instance id. */
  instanceId: string;
  /** Lifecycle state. */
  lifecycleState: LifecycleState;
  /** Health status. */
  healthStatus: AsgHealthStatus;
  /** Scale-in protection. */
  protectedFromScaleIn: boolean;
  /** Availability Zone. */
  availabilityZone: string;
  /** Instance type. */
  instanceType: string;
  /** When the instance was launched (for the health check grace period). */
  launchedAt: Date;
}

/** An Auto Scaling group. */
export interface AutoScalingGroupState {
  /** Group name. */
  name: string;
  /** `arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>`. */
  arn: string;
  /** The uuid in the ARN. */
  groupId: string;
  /** Minimum size. */
  minSize: number;
  /** Maximum size. */
  maxSize: number;
  /** Desired capacity. */
  desiredCapacity: number;
  /** Health check grace period in seconds. */
  healthCheckGracePeriod: number;
  /** `EC2` or `ELB`. */
  healthCheckType: string;
  /** Member instances (instances that left the group are removed). */
  instances: AsgInstanceState[];
  /** Group tags (all propagate at launch). */
  tags: Record<string, string>;
  /** Cluster the instances register in, if any. */
  clusterName?: string;
  /** Capacity provider name the container instances report. */
  capacityProviderName?: string;
  /** Availability Zones used round-robin for new instances. */
  availabilityZones: string[];
  /** Launch template name. */
  launchTemplateName: string;
  /**
   * Id of the group's launch template (in `FleetState.launchTemplates`); unset when the group uses a launch
   * configuration.
   */
  launchTemplateId?: string;
  /** The version the group launches: `$Latest`, `$Default` or a version number. */
  launchTemplateVersion?: string;
  /** The group's launch configuration (in `FleetState.launchConfigurations`), instead of a launch template. */
  launchConfigurationName?: string;
  /** The platform of the instances the group launches. */
  platform?: InstancePlatform;
  /** Creation time. */
  createdAt: Date;
}

/**
 * What a container instance runs, as its attributes tell: the ECS-optimized Amazon Linux 2023 or 2 AMI, a Bottlerocket
 * ECS variant (`bottlerocket.variant`), Windows (`ecs.os-type` windows), or an ECS Anywhere external instance
 * (`ecs.capability.external`, an `mi-` id, no AMI).
 */
export type InstancePlatform = 'amazon-linux-2023' | 'amazon-linux-2' | 'bottlerocket' | 'windows' | 'external';

/** One version of an EC2 launch template. */
export interface LaunchTemplateVersionState {
  /** 1, 2, ... */
  versionNumber: number;
  /** The AMI, or `resolve:ssm:<parameter>` (resolved only at launch). */
  imageId: string;
  /** Instance type, if the version sets one. */
  instanceType?: string;
  /** When the version was created. */
  createdAt: Date;
}

/** An EC2 launch template. */
export interface LaunchTemplateState {
  /** `lt-` + 17 hex digits. */
  id: string;
  /** Name. */
  name: string;
  /** Versions, oldest first. */
  versions: LaunchTemplateVersionState[];
  /** The default version number. */
  defaultVersion: number;
  /** Creation time. */
  createdAt: Date;
}

/** An Auto Scaling launch configuration (immutable). */
export interface LaunchConfigurationState {
  /** Name. */
  name: string;
  /** `arn:aws:autoscaling:<region>:<account>:launchConfiguration:<uuid>:launchConfigurationName/<name>`. */
  arn: string;
  /** The AMI. */
  imageId: string;
  /** Instance type. */
  instanceType: string;
  /** Creation time. */
  createdAt: Date;
}

/** An EC2 instance. */
export interface Ec2InstanceState {
  /** `i-` + 17 hex digits. */
  id: string;
  /** Instance state name. */
  state: Ec2StateName;
  /** Tags (includes `aws:autoscaling:groupName` while in a group). */
  tags: Record<string, string>;
  /** Instance type. */
  instanceType: string;
  /** Availability Zone. */
  availabilityZone: string;
  /** AMI id. */
  imageId: string;
  /** Launch time. */
  launchTime: Date;
  /** Private IPv4 address. */
  privateIpAddress: string;
  /** `x86_64` or `arm64`. */
  architecture: 'x86_64' | 'arm64';
  /** ARN of the instance profile it was launched with. */
  instanceProfileArn: string;
  /** Termination protection: EC2 TerminateInstances refuses it (Auto Scaling's own termination does not). */
  disableApiTermination: boolean;
}

/** A container in a task definition. */
export interface ContainerDefinitionState {
  /** Container name. */
  name: string;
  /** Image. */
  image: string;
  /** Whether it is essential. */
  essential: boolean;
  /** Memory (MiB). */
  memory?: number;
  /** CPU units. */
  cpu?: number;
  /** Environment variables, by name. */
  environment?: Record<string, string>;
  /** Secrets, by variable name: the `valueFrom` ARN. */
  secrets?: Record<string, string>;
  /** Log configuration, e.g. `{ logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/app', ... } }`. */
  logConfiguration?: { logDriver: string; options?: Record<string, string> };
}

/** An ECS task definition revision. */
export interface TaskDefinitionState {
  /** Family. */
  family: string;
  /** Revision number. */
  revision: number;
  /** `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`. */
  arn: string;
  /** ACTIVE or INACTIVE. */
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  /** Containers. */
  containers: ContainerDefinitionState[];
  /** Task CPU (string, as ECS reports it). */
  cpu?: string;
  /** Task memory (string, as ECS reports it). */
  memory?: string;
  /** Network mode. */
  networkMode: 'bridge' | 'awsvpc' | 'host' | 'none';
  /** Compatibilities. */
  requiresCompatibilities: Array<'EC2' | 'FARGATE' | 'EXTERNAL'>;
  /** Registration time. */
  registeredAt: Date;
  /** Resource tags. */
  tags: Record<string, string>;
  /** The task role (RunTask and StartTask need iam:PassRole for it). */
  taskRoleArn?: string;
  /** The task execution role (RunTask and StartTask need iam:PassRole for it). */
  executionRoleArn?: string;
}

/** A service deployment. */
export interface DeploymentState {
  /** `ecs-svc/<digits>`. */
  id: string;
  /** PRIMARY, ACTIVE or INACTIVE. */
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  /** Task definition ARN. */
  taskDefinition: string;
  /** Desired count. */
  desiredCount: number;
  /** Running count. */
  runningCount: number;
  /** Pending count. */
  pendingCount: number;
  /** Failed tasks. */
  failedTasks: number;
  /** Rollout state. */
  rolloutState?: 'COMPLETED' | 'FAILED' | 'IN_PROGRESS';
  /** Rollout state reason. */
  rolloutStateReason?: string;
  /** Created at. */
  createdAt: Date;
  /** Updated at. */
  updatedAt: Date;
}

/** An ECS service. */
export interface ServiceState {
  /** Service name. */
  name: string;
  /** `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`. */
  arn: string;
  /** Cluster name. */
  clusterName: string;
  /** ACTIVE, DRAINING or INACTIVE. */
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  /** Desired count. */
  desiredCount: number;
  /** Running count. */
  runningCount: number;
  /** Pending count. */
  pendingCount: number;
  /** Launch type (undefined when a capacity provider strategy is used). */
  launchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  /** Capacity provider strategy. */
  capacityProviderStrategy: Array<{ capacityProvider: string; weight?: number; base?: number }>;
  /** Task definition ARN. */
  taskDefinition: string;
  /** Deployments (PRIMARY first). */
  deployments: DeploymentState[];
  /** REPLICA or DAEMON. */
  schedulingStrategy: 'REPLICA' | 'DAEMON';
  /** Created at. */
  createdAt: Date;
  /** Resource tags (returned only with `include: ['TAGS']`). */
  tags: Record<string, string>;
  /** Service events, newest first. */
  events: Array<{ id: string; createdAt: Date; message: string }>;
}

/** A container of a task. */
export interface TaskContainerState {
  /** Container name. */
  name: string;
  /** Container ARN. */
  arn: string;
  /** Image. */
  image: string;
  /** Last status. */
  lastStatus: TaskStatus;
  /** Exit code, once stopped. */
  exitCode?: number;
  /** Reason, once stopped. */
  reason?: string;
  /** Whether it is essential. */
  essential: boolean;
}

/** An ECS task. */
export interface TaskState {
  /** 32-hex-digit task id. */
  id: string;
  /** `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>`. */
  arn: string;
  /** Cluster name. */
  clusterName: string;
  /** Task definition ARN. */
  taskDefinitionArn: string;
  /** Last status. */
  lastStatus: TaskStatus;
  /** Desired status. */
  desiredStatus: 'RUNNING' | 'PENDING' | 'STOPPED';
  /** Stop code, once stopping. */
  stopCode?: 'TaskFailedToStart' | 'EssentialContainerExited' | 'UserInitiated' | 'ServiceSchedulerInitiated' | 'SpotInterruption' | 'TerminationNotice';
  /** Stopped reason. */
  stoppedReason?: string;
  /** Containers. */
  containers: TaskContainerState[];
  /** startedBy. */
  startedBy?: string;
  /** group (`service:<name>` or `family:<family>` by default). */
  group: string;
  /** Container instance ARN (EC2 launch type). */
  containerInstanceArn?: string;
  /** Launch type. */
  launchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  /** Capacity provider name. */
  capacityProviderName?: string;
  /** Timestamps. */
  createdAt: Date;
  /** When it started running. */
  startedAt?: Date;
  /** When stop was requested. */
  stoppingAt?: Date;
  /** When it stopped. */
  stoppedAt?: Date;
  /** Resource tags. */
  tags: Record<string, string>;
  /** Remaining scripted lifecycle steps, advanced by DescribeTasks (see `TaskBehavior`). */
  script: TaskStatus[];
  /** Outcome applied when the script reaches STOPPED. */
  outcome?: TaskOutcome;
  /** The container overrides RunTask or StartTask was given, as given. */
  containerOverrides?: Array<{ name?: string; command?: string[]; environment?: Array<{ name?: string; value?: string }> }>;
  /** The network configuration RunTask or StartTask was given. */
  networkConfiguration?: unknown;
}

/** How a task ends. */
export interface TaskOutcome {
  /** Exit code of the essential container(s). @default 0 */
  readonly exitCode?: number;
  /** Container reason. */
  readonly reason?: string;
  /** Stop code. @default 'EssentialContainerExited' */
  readonly stopCode?: TaskState['stopCode'];
  /** Stopped reason. @default 'Essential container in task exited' */
  readonly stoppedReason?: string;
  /**
   * Per container (by name): its exit code and reason, over `exitCode` and `reason`. A container of a task that never
   * started (stopCode `TaskFailedToStart`) has no exit code unless one is given here or in `exitCode`.
   */
  readonly containers?: Readonly<Record<string, { readonly exitCode?: number; readonly reason?: string }>>;
}

/** What IAM evaluates for one resource a call touches. */
export interface IamRequest {
  /** `service:Action`, e.g. `ecs:ListContainerInstances`. */
  readonly action: string;
  /** Resource ARN per the Service Authorization Reference, or `*`. */
  readonly resource: string;
  /** Condition keys and values in the request context. */
  readonly context: Record<string, string | string[]>;
}

/** One recorded SDK call. */
export interface RecordedCall {
  /** Service. */
  readonly service: FleetService;
  /** Command name without the `Command` suffix, e.g. `ListContainerInstances`. */
  readonly command: string;
  /** A deep copy of the input at the time of the call. */
  readonly input: any;
  /** The output (a copy), when the call succeeded. */
  output?: any;
  /** The error, when the call failed (including injected faults). */
  error?: Error;
  /** What IAM evaluates for the call (empty for injected faults that happen before authorization). */
  iam: IamRequest[];
  /** True when an injected fault answered the call. */
  faulted?: boolean;
  /** Fleet time at the call. */
  readonly at: Date;
}

/** Behaviour of tasks started by RunTask or StartTask, per family (set with `FakeFleet.setTaskBehavior`). */
export interface TaskBehavior {
  /**
   * States the task steps through, one per DescribeTasks that includes it, after RunTask
   * leaves it PROVISIONING.
   * @default ['PENDING', 'RUNNING', 'STOPPED']
   */
  readonly lifecycle?: TaskStatus[];
  /** How the task ends when it reaches STOPPED. @default exit code 0, stopCode EssentialContainerExited */
  readonly outcome?: TaskOutcome;
  /** Make RunTask and StartTask return this placement failure reason (e.g. `RESOURCE:MEMORY`) instead of a task. */
  readonly placementFailure?: string;
}

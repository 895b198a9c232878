/**
 * The fleet's data, clock, id generator, ARN helpers and look-ups.
 * Command handlers (ecs.ts, autoscaling.ts, ec2.ts) work on this; `FakeFleet` extends it.
 */
import { createHash } from 'crypto';
import type {
  AutoScalingGroupState,
  ClusterState,
  ContainerInstanceState,
  Ec2InstanceState,
  IamRequest,
  LaunchConfigurationState,
  LaunchTemplateState,
  LaunchTemplateVersionState,
  ServiceState,
  TaskBehavior,
  TaskDefinitionState,
  TaskState,
} from './types';

/** The fixed default time of a fleet's clock: 2025-06-02T12:00:00Z. */
export const DEFAULT_NOW = new Date('2025-06-02T12:00:00.000Z');

/** Options for a fake fleet. */
export interface FakeFleetOptions {
  /** Region used in ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Account id used in ARNs. @default '123456789012' */
  readonly accountId?: string;
  /**
   * The fleet's clock: a fixed date (moved with `setNow`/`advance`), or a function
   * (e.g. `() => new Date()` to follow jest's fake system time).
   * @default DEFAULT_NOW (2025-06-02T12:00:00Z)
   */
  readonly now?: Date | (() => Date);
  /** The newest container agent version ECS offers (UpdateContainerAgent compares with it). @default '1.95.0' */
  readonly latestAgentVersion?: string;
  /** Seed for generated ids, so two fleets built alike have the same ids. @default 'fake-fleet' */
  readonly seed?: string;
  /** Step agent updates one state on every DescribeContainerInstances that includes the instance. @default false */
  readonly autoProgressAgentUpdates?: boolean;
  /**
   * Agents older than this have no update path: UpdateContainerAgent answers NoUpdateAvailableException, as the
   * API Reference says it does for an agent "so old that there is no update path to the current version".
   * @default - every agent with version information can be updated
   */
  readonly oldestUpdatableAgentVersion?: string;
}

/** Context a command handler uses to record what IAM evaluates. */
export interface CallContext {
  /** Record one IAM request. */
  authorize(action: string, resource: string, context?: Record<string, string | string[]>): void;
}

/** A command handler. */
export type CommandHandler = (state: FleetState, input: any, ctx: CallContext) => unknown;

/** Compare dotted version strings numerically (`1.9.0` < `1.10.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The data and helpers shared by the handlers. */
export class FleetState {
  /** Region used in ARNs. */
  public readonly region: string;
  /** Account id used in ARNs. */
  public readonly accountId: string;
  /** Newest agent version ECS offers. */
  public latestAgentVersion: string;
  /** Whether DescribeContainerInstances steps pending agent updates. */
  public autoProgressAgentUpdates: boolean;
  /** Agents older than this have no update path (NoUpdateAvailableException). */
  public oldestUpdatableAgentVersion?: string;

  /** Clusters by name. */
  public readonly clusters = new Map<string, ClusterState>();
  /** Container instances by ARN, in registration order. */
  public readonly containerInstances = new Map<string, ContainerInstanceState>();
  /** Auto Scaling groups by name. */
  public readonly autoScalingGroups = new Map<string, AutoScalingGroupState>();
  /** EC2 instances by id. */
  public readonly ec2Instances = new Map<string, Ec2InstanceState>();
  /** Task definitions by ARN. */
  public readonly taskDefinitions = new Map<string, TaskDefinitionState>();
  /** Services by ARN. */
  public readonly services = new Map<string, ServiceState>();
  /** Tasks by ARN. */
  public readonly tasks = new Map<string, TaskState>();
  /** RunTask behaviours by task definition family (`*` = any family). */
  public readonly taskBehaviors = new Map<string, TaskBehavior>();
  /**
   * Container instances that ListContainerInstances lists but DescribeContainerInstances answers as a `MISSING`
   * failure, as ECS can right after an instance (de)registers (its reads are eventually consistent).
   */
  public readonly missingOnDescribe = new Set<string>();
  /** EC2 launch templates by id. */
  public readonly launchTemplates = new Map<string, LaunchTemplateState>();
  /** Auto Scaling launch configurations by name. */
  public readonly launchConfigurations = new Map<string, LaunchConfigurationState>();
  /**
   * RunTask client tokens, by `<cluster name> <token>`: the request they were first used with (its input without the
   * token, as canonical JSON), what it returned, and when (a token is remembered for 24 hours).
   */
  public readonly runTaskTokens = new Map<string, { request: string; taskArns: string[]; failures: unknown[]; at: Date }>();

  private readonly seed: string;
  private counter = 0;
  private fixedNow: Date;
  private readonly clockFn?: () => Date;
  private clockOffsetMs = 0;

  constructor(options: FakeFleetOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.latestAgentVersion = options.latestAgentVersion ?? '1.95.0';
    this.autoProgressAgentUpdates = options.autoProgressAgentUpdates ?? false;
    this.oldestUpdatableAgentVersion = options.oldestUpdatableAgentVersion;
    this.seed = options.seed ?? 'fake-fleet';
    if (typeof options.now === 'function') {
      this.clockFn = options.now;
      this.fixedNow = options.now();
    } else {
      this.fixedNow = new Date((options.now ?? DEFAULT_NOW).getTime());
    }
  }

  // ---------------------------------------------------------------- clock

  /** The fleet's current time (a fresh Date). */
  public get now(): Date {
    if (this.clockFn) return new Date(this.clockFn().getTime() + this.clockOffsetMs);
    return new Date(this.fixedNow.getTime());
  }

  /** Set the clock (with a function clock: shifts it so that `now` equals `date`). */
  public setNow(date: Date): void {
    if (this.clockFn) this.clockOffsetMs = date.getTime() - this.clockFn().getTime();
    else this.fixedNow = new Date(date.getTime());
  }

  /** Move the clock forward by `ms` milliseconds. */
  public advance(ms: number): void {
    this.setNow(new Date(this.now.getTime() + ms));
  }

  /** `now` minus `n` minutes. */
  public minutesAgo(n: number): Date {
    return new Date(this.now.getTime() - n * 60_000);
  }

  // ---------------------------------------------------------------- ids

  /** A deterministic pseudo-random hex string of `length` digits. */
  public hex(length: number): string {
    this.counter += 1;
    let out = '';
    let i = 0;
    while (out.length < length) {
      out += createHash('sha256').update(`${this.seed}:${this.counter}:${i++}`).digest('hex');
    }
    return out.slice(0, length);
  }

  /** A deterministic UUID (v4 layout). */
  public uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** A deterministic string of decimal digits. */
  public digits(length: number): string {
    return this.hex(length).split('').map((c) => (parseInt(c, 16) % 10).toString()).join('');
  }

  // ---------------------------------------------------------------- ARNs

  /** `arn:aws:<service>:<region>:<account>:<resource>`. */
  public arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  /** Cluster ARN for a name. */
  public clusterArn(name: string): string {
    return this.arn('ecs', `cluster/${name}`);
  }

  /** EC2 instance ARN for an id. */
  public ec2InstanceArn(id: string): string {
    return this.arn('ec2', `instance/${id}`);
  }

  // ---------------------------------------------------------------- look-ups

  /** Cluster name from a name or ARN (undefined -> `default`), without checking it exists. */
  public clusterNameOf(ref: string | undefined): string {
    if (!ref) return 'default';
    const m = /^arn:aws[\w-]*:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(ref);
    return m ? m[1] : ref;
  }

  /** The cluster for a name or ARN, or undefined. */
  public findCluster(ref: string | undefined): ClusterState | undefined {
    const c = this.clusters.get(this.clusterNameOf(ref));
    if (!c) return undefined;
    if (ref?.startsWith('arn:') && ref !== c.arn) return undefined;
    return c;
  }

  /**
   * A container instance by id, ARN (new or old format) or EC2 instance id, optionally only
   * within a cluster.
   */
  public findContainerInstance(ref: string, clusterName?: string): ContainerInstanceState | undefined {
    for (const ci of this.containerInstances.values()) {
      if (clusterName !== undefined && ci.clusterName !== clusterName) continue;
      if (ci.arn === ref || ci.id === ref || ci.ec2InstanceId === ref) return ci;
      if (ref === this.arn('ecs', `container-instance/${ci.id}`)) return ci;
    }
    return undefined;
  }

  /** The group an EC2 instance is a member of, with its membership record. */
  public findGroupOfInstance(instanceId: string) {
    for (const group of this.autoScalingGroups.values()) {
      const member = group.instances.find((i) => i.instanceId === instanceId);
      if (member) return { group, member };
    }
    return undefined;
  }

  /** A launch template by id or name. */
  public findLaunchTemplate(ref: { id?: string; name?: string }): LaunchTemplateState | undefined {
    if (ref.id !== undefined) return this.launchTemplates.get(ref.id);
    return [...this.launchTemplates.values()].find((t) => t.name === ref.name);
  }

  /** The version `$Latest`, `$Default` or `<number>` of a launch template, or undefined. */
  public launchTemplateVersion(template: LaunchTemplateState, spec: string): LaunchTemplateVersionState | undefined {
    const number = spec === '$Latest' ? template.versions.length : spec === '$Default' ? template.defaultVersion : Number(spec);
    return template.versions.find((v) => v.versionNumber === number);
  }

  /** The AMI a group launches now: from its launch template version or its launch configuration. */
  public groupImageId(group: AutoScalingGroupState): string | undefined {
    if (group.launchConfigurationName !== undefined) return this.launchConfigurations.get(group.launchConfigurationName)?.imageId;
    const template = group.launchTemplateId ? this.launchTemplates.get(group.launchTemplateId) : undefined;
    return template ? this.launchTemplateVersion(template, group.launchTemplateVersion ?? '$Latest')?.imageId : undefined;
  }

  /** The latest ACTIVE task definition for `family`, `family:revision` or an ARN. */
  public findTaskDefinition(ref: string): TaskDefinitionState | undefined {
    if (this.taskDefinitions.has(ref)) return this.taskDefinitions.get(ref);
    const name = ref.startsWith('arn:') ? ref.replace(/^.*:task-definition\//, '') : ref;
    const [family, revision] = name.split(':');
    let best: TaskDefinitionState | undefined;
    for (const td of this.taskDefinitions.values()) {
      if (td.family !== family) continue;
      if (revision !== undefined) {
        if (String(td.revision) === revision) return td;
        continue;
      }
      if (td.status === 'ACTIVE' && (!best || td.revision > best.revision)) best = td;
    }
    return best;
  }

  /** A service by name or ARN within a cluster. */
  public findService(clusterName: string, ref: string): ServiceState | undefined {
    for (const s of this.services.values()) {
      if (s.clusterName !== clusterName) continue;
      if (s.name === ref || s.arn === ref || ref === this.arn('ecs', `service/${s.name}`)) return s;
    }
    return undefined;
  }

  /** A task by id or ARN within a cluster. */
  public findTask(clusterName: string, ref: string): TaskState | undefined {
    for (const t of this.tasks.values()) {
      if (t.clusterName !== clusterName) continue;
      if (t.arn === ref || t.id === ref || ref === this.arn('ecs', `task/${t.id}`)) return t;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- IAM context helpers

  /** `aws:ResourceTag/<k>` plus `<prefix>:ResourceTag/<k>` for every tag. */
  public tagContext(tags: Record<string, string>, prefix?: string): Record<string, string> {
    const ctx: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) {
      ctx[`aws:ResourceTag/${k}`] = v;
      if (prefix) ctx[`${prefix}:ResourceTag/${k}`] = v;
    }
    return ctx;
  }

  /** Convenience for handlers: an IAM request object. */
  public iam(action: string, resource: string, context: Record<string, string | string[]> = {}): IamRequest {
    return { action, resource, context };
  }
}

/** Options to `paginate`. */
export interface PaginateOptions {
  /** Page size asked for (undefined -> `defaultSize`). */
  readonly maxResults?: number;
  /** Default page size. */
  readonly defaultSize: number;
  /** Largest page size allowed (larger -> `invalid`). */
  readonly limit: number;
  /** Smallest page size allowed. @default 1 */
  readonly minimum?: number;
  /** Token from the previous page. */
  readonly token?: string;
  /** Identifies the query, so a token cannot be replayed on another one. */
  readonly scope: string;
  /** Error for an invalid token or page size. */
  readonly invalid: (what: 'token' | 'size') => Error;
}

/** Slice `items` into a page with an opaque next token, validating size and token like AWS. */
export function paginate<T>(items: T[], options: PaginateOptions): { page: T[]; nextToken?: string } {
  const size = options.maxResults ?? options.defaultSize;
  if (!Number.isInteger(size) || size < (options.minimum ?? 1) || size > options.limit) throw options.invalid('size');
  let offset = 0;
  if (options.token !== undefined) {
    try {
      const parsed = JSON.parse(Buffer.from(options.token, 'base64').toString('utf8'));
      if (parsed.s !== options.scope || !Number.isInteger(parsed.o) || parsed.o < 0) throw new Error('scope');
      offset = parsed.o;
    } catch {
      throw options.invalid('token');
    }
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  return {
    page,
    nextToken: next < items.length ? Buffer.from(JSON.stringify({ s: options.scope, o: next })).toString('base64') : undefined,
  };
}

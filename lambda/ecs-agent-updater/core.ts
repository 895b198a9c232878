/**
 * The agent updater's decisions, as functions of a snapshot of a cluster, what earlier runs remembered and the
 * configuration. No AWS calls here: the shell (index.ts) reads AWS, asks these what to do, and makes the one kind
 * of call that changes anything, UpdateContainerAgent, through the `update` function it hands to `rollCluster`.
 */

export interface UpdaterSettings {
  /** Updates in flight at once per cluster, counting those already running. */
  readonly maxConcurrentUpdates: number;
  /** Instances (and clusters) with this tag are left alone; without a value, any value of the key. */
  readonly skipTag: { readonly key: string; readonly value?: string };
  /** Decide and report, but call nothing that changes anything. */
  readonly dryRun: boolean;
}

/**
 * An update in flight longer than this is stuck: if its agent is also disconnected, the cluster is unhealthy.
 * (ECS updates an agent in a minute or two; an agent that disconnects mid-update resumes where it stopped when it
 * reconnects, so a short disconnect during an update is the agent restarting, not a fault.)
 */
export const STUCK_AFTER_SECONDS = 3600;

/** The agent update states ECS reports while an update runs. */
export const IN_FLIGHT_STATES: readonly string[] = ['PENDING', 'STAGING', 'STAGED', 'UPDATING'];

/** One container instance as the updater sees it (from DescribeContainerInstances with TAGS). */
export interface InstanceState {
  readonly arn: string;
  /** The container instance id: the last part of the ARN. */
  readonly id: string;
  readonly ec2InstanceId?: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly agentUpdateStatus?: string;
  readonly agentVersion?: string;
  readonly agentHash?: string;
  /** As ECS reports it, without the `DockerVersion: ` prefix. */
  readonly dockerVersion?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly registeredAt?: Date;
}

/** Why UpdateContainerAgent cannot update an instance. */
export type UnsupportedReason =
  | 'external' | 'windows' | 'bottlerocket' | 'arm64' | 'no-version' | 'missing-version' | 'no-update-path';

/** What to tell a user about each reason: what the instance is, and what to do instead. */
export const UNSUPPORTED_REASONS: Readonly<Record<UnsupportedReason, string>> = {
  'external': 'an ECS Anywhere external instance: UpdateContainerAgent needs an ECS-optimized AMI; update the agent with the ECS Anywhere install script',
  'windows': 'a Windows container instance: UpdateContainerAgent does not update Windows agents; launch new instances from the latest ECS-optimized Windows AMI',
  'bottlerocket': 'a Bottlerocket instance: its agent is part of the OS; update Bottlerocket itself (the Bottlerocket ECS updater, or new instances)',
  'arm64': 'an Arm (arm64) instance: UpdateContainerAgent does not update Arm agents; update the ecs-init package, or launch new instances from the latest ECS-optimized AMI',
  'no-version': 'an agent without version information (a custom or very old agent): update it by hand or replace the instance',
  'missing-version': 'ECS answered MissingVersionException: it cannot tell the agent\'s version; update it by hand or replace the instance',
  'no-update-path': 'ECS has no update path from this agent (NoUpdateAvailableException, while it updates newer agents): replace the instance',
};

/** Why this instance's platform rules out UpdateContainerAgent, from its attributes and version info; or undefined. */
export function unsupportedPlatform(instance: InstanceState): UnsupportedReason | undefined {
  const a = instance.attributes;
  if ('ecs.capability.external' in a || instance.ec2InstanceId?.startsWith('mi-')) return 'external';
  if (a['ecs.os-type'] === 'windows' || a['ecs.os-family']?.startsWith('WINDOWS')) return 'windows';
  if ('bottlerocket.variant' in a) return 'bottlerocket';
  if (a['ecs.cpu-architecture'] === 'arm64' || a['ecs.cpu-architecture'] === 'aarch64') return 'arm64';
  if (!instance.agentVersion || !instance.agentHash) return 'no-version';
  return undefined;
}

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

/** Whether the skip tag is on these tags. */
export function hasSkipTag(tags: Readonly<Record<string, string>>, skipTag: UpdaterSettings['skipTag']): boolean {
  if (!(skipTag.key in tags)) return false;
  return skipTag.value === undefined || tags[skipTag.key] === skipTag.value;
}

/**
 * What earlier runs remembered and reported about a cluster: condition keys, each with the epoch second it was
 * first seen. A key present now and absent before is new (reported once); one absent now is over.
 */
export type Conditions = Readonly<Record<string, number>>;

/** Memory keys: what the updater learned from ECS about one instance, so later runs need not ask again. */
export const memoryKey = {
  inFlight: (i: InstanceState) => `inflight:${i.id}`,
  missingVersion: (i: InstanceState) => `mv:${i.id}:${i.agentVersion ?? ''}:${i.agentHash ?? ''}`,
  noUpdatePath: (i: InstanceState) => `np:${i.id}:${i.agentVersion ?? ''}`,
};

export type ProblemKind = 'disconnected' | 'update-failed' | 'update-stuck';

export interface Problem {
  readonly instance: InstanceState;
  readonly kind: ProblemKind;
}

export interface InFlightUpdate {
  readonly instance: InstanceState;
  /** Epoch second the updater first saw it in flight. */
  readonly since: number;
  readonly stuck: boolean;
}

/** What one read of a cluster means, before any update is asked for. */
export interface ClusterAssessment {
  /** ACTIVE instances. */
  readonly active: readonly InstanceState[];
  /** Updates in flight on ACTIVE or DRAINING instances: they count against `maxConcurrentUpdates`. */
  readonly inFlight: readonly InFlightUpdate[];
  /** What makes the cluster unhealthy (instances with the skip tag are left out). */
  readonly problems: readonly Problem[];
  readonly healthy: boolean;
  /** ACTIVE instances with the skip tag. */
  readonly skipped: readonly InstanceState[];
  /** ACTIVE instances UpdateContainerAgent cannot update, known before any call. */
  readonly unsupported: ReadonlyArray<{ readonly instance: InstanceState; readonly reason: UnsupportedReason }>;
  /** ACTIVE, connected, idle, supported instances, oldest agent first. */
  readonly candidates: readonly InstanceState[];
}

/** Reads one cluster's instances (every status but INACTIVE) with what earlier runs remembered. */
export function assessCluster(
  instances: readonly InstanceState[], remembered: Conditions, settings: UpdaterSettings, nowSeconds: number,
): ClusterAssessment {
  const inFlight: InFlightUpdate[] = [];
  const problems: Problem[] = [];
  const skipped: InstanceState[] = [];
  const unsupported: Array<{ instance: InstanceState; reason: UnsupportedReason }> = [];
  const candidates: InstanceState[] = [];
  const active = instances.filter((i) => i.status === 'ACTIVE');

  for (const instance of instances) {
    if (instance.status !== 'ACTIVE' && instance.status !== 'DRAINING') continue;
    if (hasSkipTag(instance.tags, settings.skipTag)) {
      if (instance.status === 'ACTIVE') skipped.push(instance);
      continue;
    }
    const updating = instance.agentUpdateStatus !== undefined && IN_FLIGHT_STATES.includes(instance.agentUpdateStatus);
    const since = remembered[memoryKey.inFlight(instance)] ?? nowSeconds;
    const stuck = updating && nowSeconds - since > STUCK_AFTER_SECONDS;
    if (updating) inFlight.push({ instance, since, stuck });
    if (instance.status !== 'ACTIVE') continue;

    if (instance.agentUpdateStatus === 'FAILED') problems.push({ instance, kind: 'update-failed' });
    else if (!instance.agentConnected && !updating) problems.push({ instance, kind: 'disconnected' });
    else if (!instance.agentConnected && stuck) problems.push({ instance, kind: 'update-stuck' });
    if (updating || !instance.agentConnected || instance.agentUpdateStatus === 'FAILED') continue;

    const reason = unsupportedPlatform(instance)
      ?? (remembered[memoryKey.missingVersion(instance)] !== undefined ? 'missing-version' : undefined)
      ?? (remembered[memoryKey.noUpdatePath(instance)] !== undefined ? 'no-update-path' : undefined);
    if (reason) unsupported.push({ instance, reason });
    else candidates.push(instance);
  }

  candidates.sort((a, b) => compareVersions(a.agentVersion!, b.agentVersion!)
    || (a.registeredAt?.getTime() ?? 0) - (b.registeredAt?.getTime() ?? 0)
    || a.arn.localeCompare(b.arn));
  return { active, inFlight, problems, healthy: problems.length === 0, skipped, unsupported, candidates };
}

/**
 * What ECS answered for agent versions during this run, across every cluster (the newest agent is the same for
 * every cluster of a region): `accepted` (an update started, so a newer agent exists) or `no-update`
 * (NoUpdateAvailableException).
 */
export type Verdicts = Map<string, 'accepted' | 'no-update'>;

export type VersionClass = 'up-to-date' | 'outdated' | 'no-update-path' | 'unchecked';

/**
 * What an agent version is, from the verdicts and the newest version seen on a supported instance:
 * - an accepted version, or one older than any version ECS answered for or than the newest seen, is outdated;
 * - a version ECS had no update for is up to date, unless ECS accepted an update of a newer version: then it has
 *   no update path (ECS has a newer agent, and updates a newer one, but not this one). Older than a version ECS
 *   also had no update for is not enough: that newer agent may be ahead of what UpdateContainerAgent offers (a
 *   newer AMI), or of another platform;
 * - a version at or above one that is up to date is up to date;
 * - anything else is unchecked (no call could tell without starting an update).
 */
export function classifyVersion(version: string, verdicts: Verdicts, newestSeen?: string): VersionClass {
  const verdict = verdicts.get(version);
  const newerAnswered = [...verdicts.keys()].some((v) => compareVersions(v, version) > 0);
  const newerAccepted = [...verdicts.entries()].some(([v, answer]) => answer === 'accepted' && compareVersions(v, version) > 0);
  if (verdict === 'accepted') return 'outdated';
  if (verdict === 'no-update') return newerAccepted ? 'no-update-path' : 'up-to-date';
  if (newerAnswered || (newestSeen !== undefined && compareVersions(version, newestSeen) < 0)) return 'outdated';
  const current = [...verdicts.entries()].some(([v, answer]) => answer === 'no-update' && compareVersions(version, v) >= 0);
  return current ? 'up-to-date' : 'unchecked';
}

/** The newest agent version among these instances, if any has one. */
export function newestVersion(instances: readonly InstanceState[]): string | undefined {
  let newest: string | undefined;
  for (const i of instances) {
    if (i.agentVersion && (newest === undefined || compareVersions(i.agentVersion, newest) > 0)) newest = i.agentVersion;
  }
  return newest;
}

/** What one UpdateContainerAgent call ended in. */
export type UpdateOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'no-update' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'missing-version' }
  | { readonly kind: 'error'; readonly error: string };

/** What `rollCluster` did (or, in a dry run, would do) in one cluster. */
export interface RollResult {
  /** Instances whose update ECS accepted this run. */
  readonly requested: readonly InstanceState[];
  /** Dry run: instances whose update would be asked for. */
  readonly wouldUpdate: readonly InstanceState[];
  /** Dry run: the instance a real run would ask first, to learn whether the newest agent seen is current. */
  readonly wouldProbe?: InstanceState;
  /** Instances ECS said already had an update in flight (UpdateInProgressException). */
  readonly alreadyUpdating: readonly InstanceState[];
  /** Instances ECS answered MissingVersionException for. */
  readonly missingVersion: readonly InstanceState[];
  /** Every call made, in order. */
  readonly calls: ReadonlyArray<{ readonly instance: InstanceState; readonly outcome: UpdateOutcome }>;
  /** The error that stopped the cluster for this run, if any. */
  readonly error?: { readonly instance: InstanceState; readonly error: string };
  /** Why no update was asked for although candidates remain, for the log. */
  readonly held?: string;
}

/**
 * Asks ECS to update agents in one healthy cluster until `maxConcurrentUpdates` (less the updates in flight) are
 * running: first the newest agent of the cluster when nobody has asked about that version yet this run (if ECS
 * accepts, it was outdated and is now updating; if not, it is current, and every older agent is outdated), then
 * the oldest agents first. A version ECS had no update for is not asked again this run, in any cluster.
 *
 * `update` makes the call (after its own retries of throttling) and says how it ended; an `error` stops the cluster.
 * In a dry run nothing is called: the instances that would be updated are those known to be outdated.
 */
export async function rollCluster(
  assessment: ClusterAssessment,
  verdicts: Verdicts,
  settings: UpdaterSettings,
  newestSeen: string | undefined,
  update: (instance: InstanceState) => Promise<UpdateOutcome>,
): Promise<RollResult> {
  const requested: InstanceState[] = [];
  const alreadyUpdating: InstanceState[] = [];
  const missingVersion: InstanceState[] = [];
  const calls: Array<{ instance: InstanceState; outcome: UpdateOutcome }> = [];
  let budget = settings.maxConcurrentUpdates - assessment.inFlight.length;
  const worthAsking = (i: InstanceState) => {
    const c = classifyVersion(i.agentVersion!, verdicts, newestSeen);
    return c === 'outdated' || c === 'unchecked';
  };

  if (!assessment.healthy) return { requested, wouldUpdate: [], alreadyUpdating, missingVersion, calls, held: 'the cluster is unhealthy' };
  if (budget <= 0) {
    const held = `${assessment.inFlight.length} update(s) in flight use the concurrency of ${settings.maxConcurrentUpdates}`;
    return { requested, wouldUpdate: [], alreadyUpdating, missingVersion, calls, held };
  }

  if (settings.dryRun) {
    const outdated = assessment.candidates.filter((i) => classifyVersion(i.agentVersion!, verdicts, newestSeen) === 'outdated');
    const wouldUpdate = outdated.slice(0, budget);
    const unchecked = assessment.candidates.filter((i) => classifyVersion(i.agentVersion!, verdicts, newestSeen) === 'unchecked');
    const wouldProbe = wouldUpdate.length < budget ? unchecked[unchecked.length - 1] : undefined;
    return { requested, wouldUpdate, wouldProbe, alreadyUpdating, missingVersion, calls };
  }

  const remaining = [...assessment.candidates];
  let probed = false;
  while (budget > 0) {
    // Drop what this run already knows needs no call: up to date, or too old for an update path.
    for (let i = remaining.length - 1; i >= 0; i--) if (!worthAsking(remaining[i])) remaining.splice(i, 1);
    if (remaining.length === 0) break;
    let next = remaining[0];
    const newest = remaining[remaining.length - 1];
    if (!probed && classifyVersion(newest.agentVersion!, verdicts, newestSeen) === 'unchecked') {
      // The oldest-registered instance with the newest agent.
      next = remaining.find((i) => i.agentVersion === newest.agentVersion)!;
      probed = true;
    }
    remaining.splice(remaining.indexOf(next), 1);

    const outcome = await update(next);
    calls.push({ instance: next, outcome });
    switch (outcome.kind) {
      case 'accepted':
        verdicts.set(next.agentVersion!, 'accepted');
        requested.push(next);
        budget--;
        break;
      case 'no-update':
        if (verdicts.get(next.agentVersion!) !== 'accepted') verdicts.set(next.agentVersion!, 'no-update');
        break;
      case 'in-progress':
        alreadyUpdating.push(next);
        budget--;
        break;
      case 'missing-version':
        missingVersion.push(next);
        break;
      case 'error':
        return { requested, wouldUpdate: [], alreadyUpdating, missingVersion, calls, error: { instance: next, error: outcome.error } };
    }
  }
  return { requested, wouldUpdate: [], alreadyUpdating, missingVersion, calls };
}

/** How many ACTIVE instances are in each state after a run. Each instance is in exactly one. */
export interface AgentCounts {
  readonly instances: number;
  readonly upToDate: number;
  readonly updating: number;
  readonly outdated: number;
  readonly unsupported: number;
  readonly skipped: number;
  readonly unchecked: number;
}

/** The instances of each unsupported reason, including what ECS answered this run. */
export type UnsupportedByReason = ReadonlyMap<UnsupportedReason, readonly InstanceState[]>;

/** Sorts every ACTIVE instance into one state, with what this run learned, and histograms of agent and Docker versions. */
export function summarize(
  assessment: ClusterAssessment, roll: RollResult | undefined, verdicts: Verdicts, newestSeen: string | undefined,
): {
    counts: AgentCounts;
    unsupported: UnsupportedByReason;
    agentVersions: Record<string, number>;
    dockerVersions: Record<string, number>;
    /** The agent versions of the instances up to date. */
    upToDateVersions: string[];
  } {
  const updating = new Set([
    ...assessment.inFlight.map((f) => f.instance.arn),
    ...(roll?.requested ?? []).map((i) => i.arn),
    ...(roll?.alreadyUpdating ?? []).map((i) => i.arn),
  ]);
  const skipped = new Set(assessment.skipped.map((i) => i.arn));
  const unsupported = new Map<UnsupportedReason, InstanceState[]>();
  const add = (reason: UnsupportedReason, instance: InstanceState) => unsupported.set(reason, [...unsupported.get(reason) ?? [], instance]);
  for (const u of assessment.unsupported) add(u.reason, u.instance);
  for (const i of roll?.missingVersion ?? []) add('missing-version', i);
  const unsupportedArns = new Set([...unsupported.values()].flat().map((i) => i.arn));

  let upToDate = 0;
  const upToDateVersions = new Set<string>();
  let outdated = 0;
  let unchecked = 0;
  const agentVersions: Record<string, number> = {};
  const dockerVersions: Record<string, number> = {};
  for (const instance of assessment.active) {
    agentVersions[instance.agentVersion ?? 'unknown'] = (agentVersions[instance.agentVersion ?? 'unknown'] ?? 0) + 1;
    dockerVersions[instance.dockerVersion ?? 'unknown'] = (dockerVersions[instance.dockerVersion ?? 'unknown'] ?? 0) + 1;
    if (updating.has(instance.arn) || skipped.has(instance.arn) || unsupportedArns.has(instance.arn)) continue;
    // A disconnected instance was no candidate, but its platform still tells.
    const platform = unsupportedPlatform(instance);
    if (platform) {
      add(platform, instance);
      continue;
    }
    const cls = classifyVersion(instance.agentVersion!, verdicts, newestSeen);
    if (cls === 'no-update-path') {add('no-update-path', instance);} else if (cls === 'up-to-date') {
      upToDate++;
      upToDateVersions.add(instance.agentVersion!);
    } else if (cls === 'outdated') {outdated++;} else {unchecked++;}
  }
  const counts: AgentCounts = {
    instances: assessment.active.length,
    upToDate,
    updating: assessment.active.filter((i) => updating.has(i.arn)).length,
    outdated,
    unsupported: [...unsupported.values()].reduce((n, list) => n + list.length, 0),
    skipped: skipped.size,
    unchecked,
  };
  return { counts, unsupported, agentVersions, dockerVersions, upToDateVersions: [...upToDateVersions].sort(compareVersions) };
}

/**
 * What a run tells people, and only when something changed: each cluster's state is a set of condition keys
 * (`unhealthy`, `failed:<instance>`, `unsupported:arm64`, `drift:<group>:<ami>`, ...) remembered between runs;
 * a key that appears is reported once, and the end of `unhealthy` (healthy again) and of `outdated` (every agent
 * current) are reported too. Updates requested are reported whenever they happen. At most one message per cluster
 * per run.
 */
import {
  AgentCounts, ClusterAssessment, Conditions, InstanceState, RollResult, UNSUPPORTED_REASONS, UnsupportedByReason,
  UnsupportedReason, memoryKey, summarize,
} from './core';
import type { DriftFinding, UnknownGroupImage } from './drift';
import type { MessageField, NotificationMessage, Severity } from '../common/notifier/message';

const SOURCE = 'EcsAgentUpdater';
const MAX_LISTED = 20;

/** What one run did in one cluster; the handler returns these. */
export interface ClusterRun {
  readonly cluster: string;
  /** Why the cluster was left alone without reading it: its skip tag, or it is not ACTIVE. */
  readonly leftAlone?: string;
  readonly assessment?: ClusterAssessment;
  readonly roll?: RollResult;
  readonly summary?: ReturnType<typeof summarize>;
  readonly drift?: { readonly drift: readonly DriftFinding[]; readonly unknown: readonly UnknownGroupImage[] };
  /** Errors met: reading the cluster, an UpdateContainerAgent call, the drift check. */
  readonly errors: readonly string[];
}

/** Keys that only remember (they are never reported by themselves). */
const MEMORY_ONLY = /^inflight:/;
/** Keys whose end is reported. */
const REPORTED_WHEN_OVER = ['unhealthy', 'outdated'];

/** Unsupported reasons known from the instance itself: reported once per reason; the others once per instance. */
const PLATFORM_REASONS: readonly UnsupportedReason[] = ['external', 'windows', 'bottlerocket', 'arm64', 'no-version'];

/** The conditions of a cluster after this run. */
export function nextConditions(run: ClusterRun, previous: Conditions, nowSeconds: number, dryRun: boolean): Record<string, number> {
  const next: Record<string, number> = {};
  const set = (key: string, since = previous[key] ?? nowSeconds) => { next[key] = since; };
  for (const error of run.errors) set(`error:${error}`);
  if (run.leftAlone) {
    set(`left-alone:${run.leftAlone}`);
    return next; // nothing else is known: what was remembered about its instances is let go
  }
  const { assessment, roll, summary } = run;
  if (!assessment || !summary) {
    // The cluster could not be read: keep what was known, with this run's errors instead of the last ones.
    for (const [key, since] of Object.entries(previous)) if (!key.startsWith('error:')) next[key] = since;
    return next;
  }

  if (!assessment.healthy) set('unhealthy');
  for (const p of assessment.problems) if (p.kind === 'update-failed') set(`failed:${p.instance.id}`);
  for (const f of assessment.inFlight) {
    set(memoryKey.inFlight(f.instance), f.since);
    if (f.stuck) set(`stuck:${f.instance.id}`);
  }
  for (const i of [...roll?.requested ?? [], ...roll?.alreadyUpdating ?? []]) set(memoryKey.inFlight(i));
  for (const [reason, instances] of summary.unsupported) {
    if (PLATFORM_REASONS.includes(reason)) set(`unsupported:${reason}`);
    for (const i of instances) {
      if (reason === 'missing-version') set(memoryKey.missingVersion(i));
      if (reason === 'no-update-path') set(memoryKey.noUpdatePath(i));
    }
  }
  for (const d of run.drift?.drift ?? []) set(`drift:${d.group}:${d.expected.join(',')}`);
  for (const u of run.drift?.unknown ?? []) set(`drift-unknown:${u.group}:${u.why}`);
  for (const i of roll?.wouldUpdate ?? []) set(`would:${i.id}`);
  if (!dryRun) {
    const rolledOut = assessment.healthy && !roll?.error && summary.counts.outdated + summary.counts.updating + summary.counts.unchecked === 0;
    if (!rolledOut && (summary.counts.outdated + summary.counts.updating > 0 || previous.outdated !== undefined)) set('outdated');
  }
  return next;
}

/** New keys that are reported (memory keys are not). */
function appeared(previous: Conditions, next: Conditions): Set<string> {
  return new Set(Object.keys(next).filter((k) => previous[k] === undefined && !MEMORY_ONLY.test(k)));
}

/**
 * What to remember when the message could not be delivered to any channel: this run's memory, but its reports
 * as not made (new reportable keys left out, ended ones kept), so the next run reports them again.
 */
export function undelivered(previous: Conditions, next: Conditions): Record<string, number> {
  const kept: Record<string, number> = {};
  const isMemory = (k: string) => MEMORY_ONLY.test(k) || k.startsWith('mv:') || k.startsWith('np:');
  for (const [key, since] of Object.entries(next)) if (previous[key] !== undefined || isMemory(key)) kept[key] = since;
  for (const key of REPORTED_WHEN_OVER) if (previous[key] !== undefined && next[key] === undefined) kept[key] = previous[key];
  return kept;
}

/** At most one message for a cluster's run: what changed, or undefined when nothing did. */
export function clusterReport(run: ClusterRun, previous: Conditions, next: Conditions, dryRun: boolean): NotificationMessage | undefined {
  const { cluster, assessment, roll, summary } = run;
  const fresh = appeared(previous, next);
  const sections: Array<{ heading: string; lines: string[] }> = [];
  const titles: Array<{ severity: Severity; title: string }> = [];
  const add = (severity: Severity, title: string, heading: string, lines: string[]) => {
    titles.push({ severity, title });
    sections.push({ heading, lines });
  };

  const newErrors = run.errors.filter((e) => fresh.has(`error:${e}`));
  if (newErrors.length > 0) {
    add('error', `ECS agent updater could not finish ${cluster}`, 'Errors (nothing more was asked of ECS in this cluster this run)', listed(newErrors));
  }
  if (run.leftAlone && fresh.has(`left-alone:${run.leftAlone}`)) {
    add('info', `${cluster} is left alone: ${run.leftAlone}`, 'Left alone', [`No agent in ${cluster} is updated while ${run.leftAlone}.`]);
  }

  if (assessment) {
    const failed = assessment.problems.filter((p) => p.kind === 'update-failed' && fresh.has(`failed:${p.instance.id}`));
    if (failed.length > 0) {
      add('error', `${failed.length} ECS agent update(s) failed in ${cluster}`, 'Update failed',
        listed(failed.map((p) => `${name(p.instance)}: agent ${p.instance.agentVersion ?? 'unknown'}, agentUpdateStatus FAILED`)));
    }
    if (fresh.has('unhealthy')) {
      add('warning', `${cluster} is unhealthy: no agent is updated there until it recovers`, 'Unhealthy',
        listed(assessment.problems.map((p) => `${name(p.instance)}: ${problemText(p.kind)}`)));
    } else if (previous.unhealthy !== undefined && next.unhealthy === undefined) {
      add('success', `${cluster} is healthy again: agent updates resume`, 'Healthy again', ['No disconnected agent and no failed update remain.']);
    }
    const stuck = assessment.inFlight.filter((f) => f.stuck && fresh.has(`stuck:${f.instance.id}`));
    if (stuck.length > 0) {
      add('warning', `${stuck.length} ECS agent update(s) stuck in ${cluster}`, 'Stuck updates (they hold their place in maxConcurrentUpdates)',
        listed(stuck.map((f) => `${name(f.instance)}: ${f.instance.agentUpdateStatus} since ${new Date(f.since * 1000).toISOString()}`
          + `${f.instance.agentConnected ? '' : ', agent disconnected'}; ECS resumes it when the agent reconnects, else replace the instance`)));
    }
  }

  if (roll && roll.requested.length > 0) {
    add('success', `Updating ${roll.requested.length} ECS agent(s) in ${cluster}`, 'Update requested',
      listed(roll.requested.map((i) => `${name(i)}: agent ${i.agentVersion}`)));
  }
  if (dryRun && roll && roll.wouldUpdate.some((i) => fresh.has(`would:${i.id}`))) {
    add('info', `Dry run: would update ${roll.wouldUpdate.length} ECS agent(s) in ${cluster}`, 'Would request an update (dry run)',
      listed(roll.wouldUpdate.map((i) => `${name(i)}: agent ${i.agentVersion}`)));
  }
  if (summary) {
    const lines: string[] = [];
    for (const [reason, instances] of summary.unsupported) {
      const key = PLATFORM_REASONS.includes(reason) ? `unsupported:${reason}` : undefined;
      const shown = key ? (fresh.has(key) ? instances : []) : instances.filter((i) => fresh.has(reason === 'missing-version'
        ? memoryKey.missingVersion(i) : memoryKey.noUpdatePath(i)));
      if (shown.length === 0) continue;
      lines.push(`${shown.length} instance(s) skipped, each ${UNSUPPORTED_REASONS[reason]}:`);
      lines.push(...listed(shown.map(name)));
    }
    if (lines.length > 0) add('warning', `Some ECS agents in ${cluster} cannot be updated with UpdateContainerAgent`, 'Not updatable', lines);
  }
  const newDrift = (run.drift?.drift ?? []).filter((d) => fresh.has(`drift:${d.group}:${d.expected.join(',')}`));
  const newUnknown = (run.drift?.unknown ?? []).filter((u) => fresh.has(`drift-unknown:${u.group}:${u.why}`));
  if (newDrift.length > 0 || newUnknown.length > 0) {
    const lines = newDrift.flatMap((d) => [
      `${d.instances.length} instance(s) of ${d.group} run another AMI than it launches now (${d.expected.join(' or ')}); replace them with an instance refresh:`,
      ...listed(d.instances.map((i) => `${name(i.instance)}: ${i.ami}`)),
    ]);
    lines.push(...newUnknown.map((u) => `${u.group}: AMI drift cannot be checked: ${u.why}`));
    add('warning', `AMI drift in ${cluster}`, 'AMI drift (report only)', lines);
  }
  if (previous.outdated !== undefined && next.outdated === undefined && summary && !dryRun) {
    const { counts } = summary;
    const leftOut = [counts.unsupported > 0 ? `${counts.unsupported} not updatable` : '', counts.skipped > 0 ? `${counts.skipped} skipped by tag` : '']
      .filter(Boolean);
    add('success', `Every ${leftOut.length > 0 ? 'updatable ' : ''}ECS agent in ${cluster} is up to date`, 'Rollout complete',
      [`${counts.upToDate} agent(s) up to date (${summary.upToDateVersions.join(', ')})${leftOut.length > 0 ? `; ${leftOut.join(', ')}` : ''}.`]);
  }

  if (titles.length === 0) return undefined;
  const order: Severity[] = ['error', 'warning', 'success', 'info'];
  const top = [...titles].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity))[0];
  const fields: MessageField[] = [{ name: 'Cluster', value: cluster }];
  if (summary) fields.push({ name: 'Agents', value: describeCounts(summary.counts) });
  if (dryRun) fields.push({ name: 'Mode', value: 'dry run: nothing is updated' });
  return {
    source: SOURCE,
    title: top.title,
    severity: top.severity,
    fields,
    sections: sections.map((s) => ({ heading: s.heading, text: s.lines.join('\n') })),
  };
}

/** `80 up to date, 15 outdated, 1 updating, 4 unsupported` (non-zero counts only). */
export function describeCounts(counts: AgentCounts): string {
  const parts: Array<[number, string]> = [
    [counts.upToDate, 'up to date'], [counts.outdated, 'outdated'], [counts.updating, 'updating'],
    [counts.unsupported, 'not updatable'], [counts.skipped, 'skipped by tag'], [counts.unchecked, 'not checked this run'],
  ];
  const shown = parts.filter(([n]) => n > 0).map(([n, label]) => `${n} ${label}`);
  return `${counts.instances} instance(s)${shown.length > 0 ? `: ${shown.join(', ')}` : ''}`;
}

function problemText(kind: string): string {
  switch (kind) {
    case 'disconnected': return 'agent disconnected';
    case 'update-failed': return 'agent update FAILED';
    default: return 'agent update stuck and agent disconnected';
  }
}

/** `i-0abc (container instance 1f2e...)`. */
function name(instance: InstanceState): string {
  return `${instance.ec2InstanceId ?? instance.id} (container instance ${instance.id})`;
}

function listed(items: readonly string[]): string[] {
  const shown = items.slice(0, MAX_LISTED).map((i) => `• ${i}`);
  if (items.length > MAX_LISTED) shown.push(`… and ${items.length - MAX_LISTED} more`);
  return shown;
}

/** For the log: the unsupported instances by reason, as EC2 ids. */
export function unsupportedForLog(unsupported: UnsupportedByReason): Record<string, string[]> {
  return Object.fromEntries([...unsupported.entries()].map(([reason, list]) => [reason, list.map((i) => i.ec2InstanceId ?? i.id)]));
}

/**
 * Turns one cluster's run into at most one chat message. Quiet runs (nothing new, nothing done)
 * send nothing; an instance that stays down is reported when it first fails and when it is
 * replaced (or, when it cannot be, once on reaching the threshold), not on every run.
 */
import { ClusterResult, MonitorSettings, PlannedStep, describeAction } from './core';
import type { MessageField, NotificationMessage, Severity } from '../common/notifier/message';

const SOURCE = 'EcsAgentMonitor';
const MAX_LISTED = 20;

export function clusterReport(result: ClusterResult, settings: MonitorSettings): NotificationMessage | undefined {
  const { cluster, assessment, plan, done, errors } = result;
  const dryRun = settings.action === 'NOTIFY_ONLY';
  const lines: string[] = [];
  let severity: Severity = 'info';
  let title: string | undefined;

  if (assessment?.outage) {
    severity = 'error';
    const unknown = assessment.unknown.length > 0 ? ` (${assessment.unknown.length} of them could not be described)` : '';
    const checkedHere = `${assessment.failing.length + assessment.unknown.length} of ${assessment.checked + assessment.unknown.length} checked instances`
      + ` (${assessment.failingPercent.toFixed(0)}%)${unknown}`;
    if (assessment.outage === 'fleet') {
      title = `Outage guard tripped across the monitored clusters: replacing nothing in ${cluster}`;
      lines.push(`Across every monitored cluster, more than the outage threshold of ${settings.outageThresholdPercent}% of the checked instances `
        + `failed the check at once; here ${checkedHere}.`);
    } else {
      title = `Outage guard tripped in ${cluster}: replacing nothing`;
      lines.push(`${checkedHere} failed the check at once, above the outage threshold of ${settings.outageThresholdPercent}%.`);
    }
    lines.push('This looks like an ECS-side problem: failure counts are kept as they are (they neither expire nor go up) until it clears.');
    lines.push(...listed(assessment.failing.map((f) => `${f.ec2InstanceId ?? f.arn}: ${f.reason}`)));
  }

  const detached = result.detached ?? [];
  const stuck = detached.filter((d) => d.outcome === 'failed');
  if (stuck.length > 0) {
    severity = 'error';
    title ??= `${stuck.length} instance(s) detached from their group in ${cluster} are not terminated`;
    lines.push('Detached from their Auto Scaling group to be terminated, and still running (tried again every run):');
    lines.push(...listed(stuck.map((d) => `${d.ec2InstanceId} (from ${d.group}): ${d.why ?? 'not terminated'}`)));
  }
  const finished = detached.filter((d) => d.outcome === 'terminated');
  if (finished.length > 0) {
    severity = severity === 'info' ? 'success' : severity;
    title ??= `Terminated ${finished.length} instance(s) detached by an earlier run in ${cluster}`;
    lines.push(`Terminated now, after an earlier run detached them: ${finished.map((d) => `${d.ec2InstanceId} (from ${d.group})`).join(', ')}`);
  }

  const replaced = done.filter((s): s is Extract<PlannedStep, { kind: 'replace' }> => s.kind === 'replace');
  if (replaced.length > 0) {
    severity = dryRun ? 'warning' : 'success';
    title ??= dryRun
      ? `Dry run: would replace ${replaced.length} instance(s) in ${cluster}`
      : `Replacing ${replaced.length} instance(s) with a disconnected ECS agent in ${cluster}`;
    lines.push(dryRun ? 'Would have replaced:' : 'Replacement requested:');
    lines.push(...listed(replaced.map((s) =>
      `${s.instance.ec2InstanceId} (${s.group ?? 'no Auto Scaling group'}): ${s.instance.reason} on ${s.failures} consecutive checks; ` +
      // In a dry run the configured action is NOTIFY_ONLY itself: say so instead of "would nothing (dry run)".
      (dryRun ? 'dry run, nothing changed' : describeAction(settings.action, !s.group)))));
  }

  // Skips and waits are reported once, when the instance first reaches the threshold.
  const skipped = (plan?.steps ?? [])
    .filter((s): s is Extract<PlannedStep, { kind: 'skip' }> => s.kind === 'skip' && s.failures === settings.failAfter);
  if (skipped.length > 0) {
    severity = severity === 'info' ? 'warning' : severity;
    title ??= `${skipped.length} failing instance(s) in ${cluster} cannot be replaced`;
    lines.push('Not replaced:');
    lines.push(...listed(skipped.map((s) => `${s.instance.ec2InstanceId ?? s.instance.arn}: ${s.why}`)));
  }
  if (plan && plan.waiting.length > 0) {
    const fleet = plan.waitingForFleetCap ?? 0;
    lines.push(`${plan.waiting.length} more instance(s) reached the threshold and wait for a later run (at most ${settings.maxReplacementsPerRun} per run`
      + `${fleet > 0 ? `, and ${settings.maxReplacementsPerRunTotal} per run across all clusters` : ''}).`);
  }

  const first = plan?.firstFailures ?? [];
  if (first.length > 0) {
    severity = severity === 'info' ? 'warning' : severity;
    title ??= `${first.length} instance(s) in ${cluster} failed an ECS agent check`;
    lines.push(`Failed a check for the first time (1 of ${settings.failAfter} before replacement):`);
    lines.push(...listed(first.map((f) => `${f.ec2InstanceId ?? f.arn}: ${f.reason}`)));
  }

  if (errors.length > 0) {
    severity = 'error';
    title ??= `ECS agent monitor could not finish its check of ${cluster}`;
    lines.push('Errors (nothing unconfirmed was replaced):');
    lines.push(...listed(errors));
  }

  if (!title) return undefined;
  const fields: MessageField[] = [
    { name: 'Cluster', value: cluster },
    { name: 'Action', value: settings.action },
  ];
  if (assessment) {
    fields.push({ name: 'Failing', value: `${assessment.failing.length} of ${assessment.checked} checked` });
  }
  return { source: SOURCE, title, severity, fields, sections: [{ text: lines.join('\n') }] };
}

function listed(items: readonly string[]): string[] {
  const shown = items.slice(0, MAX_LISTED).map((i) => `• ${i}`);
  if (items.length > MAX_LISTED) shown.push(`… and ${items.length - MAX_LISTED} more`);
  return shown;
}

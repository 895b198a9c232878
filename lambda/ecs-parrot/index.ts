/**
 * EcsParrot handler: reads ECS events from its SQS queue in batches (the event source mapping's batch window),
 * drops repeats, keeps the interesting ones, enriches them, coalesces each subject's findings into one message and
 * delivers it, reporting the records whose delivery failed so that only those are retried.
 *
 * Never lost: a record fails back to the queue until every channel has its event (the DLQ takes it after the
 * retry period). Never repeated: an event is claimed in the dedupe table before it is sent and remembered for an
 * hour after, per channel, so a retry goes only to the channels that missed it.
 *
 * In time: the claims, the enrichment and the read of ongoing failures each have a slice of the invocation's time
 * budget, so a table or an ECS that does not answer cannot hold the messages back; a table that does not answer in
 * time is not used again in the invocation, and its events go out without a claim (a duplicate is better than none).
 * A message is not started without MIN_TIME_TO_SEND_MS left: its records go back to the queue. The writes after a
 * send have the handler's reserve.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  EVENT_KINDS, EventKind, Finding, IncidentDecision, IncidentState, ParrotSettings, SEVERITIES, Severity,
  classify, decideIncident, digest, subjectKey, type Digest,
} from './core';
import { enrich, NO_ENRICHMENT, type Enrichment } from './enrich';
import { parseEvent, parseTime, type ParrotEvent } from './events';
import { renderDigest } from './message';
import { DedupeStore, type ClaimResult } from './store';
import { describeError, errorName, settleWithConcurrency } from '../common/aws';
import { isOutOfTime } from '../common/budget';
import { ConfigError, env, readConfig, readConfigParts, type Reader } from '../common/config';
import { lambdaHandler, type Invocation } from '../common/handler';
import { channelLabel, notifierFromEnv, type NotifierOptions } from '../common/notifier';
import { MetricUnit, logger } from '../common/powertools';

const SERVICE = 'ecs-parrot';
/** DynamoDB calls in flight at once. */
const STORE_CONCURRENCY = 10;
/** No message is started with less of the time budget left than this: its records go back to the queue instead. */
const MIN_TIME_TO_SEND_MS = 5_000;
/** Time kept from the work for the writes after the last message (its delivery, its ongoing failures), metrics and the batch response. */
const RESERVE_MS = 5_000;
/** Longest the claims of a batch may take: what is not claimed by then goes out without a claim. */
const CLAIMS_BUDGET_MS = 10_000;
/** Longest enrichment may take: the messages go out without what it has not read by then. */
const ENRICHMENT_BUDGET_MS = 10_000;
/** Longest the read of the ongoing failures may take: without it, every one is reported. */
const INCIDENTS_BUDGET_MS = 5_000;
/** Longest the dedupe writes after one message may take (from the reserve). */
const RECORD_BUDGET_MS = 5_000;
/** A claim's lease when the handler runs outside Lambda (no deadline). */
const DEFAULT_LEASE_SECONDS = 120;

/** A list of event kinds. */
function kindList(): Reader<EventKind[]> {
  return (e, name, problems) => {
    const list = env.list({ minItems: 1 })(e, name, problems);
    const unknown = (list ?? []).filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      problems.push(`${name} has ${unknown.join(', ')}; expected some of ${EVENT_KINDS.join(', ')}`);
      return undefined;
    }
    return list as EventKind[] | undefined;
  };
}

function readSettings(notifierOptions: Omit<NotifierOptions, 'logger'>) {
  const { notifier, c } = readConfigParts({
    notifier: () => {
      const n = notifierFromEnv({ logger, ...notifierOptions });
      if (n.channels.length === 0) throw new ConfigError(['NOTIFICATION_CHANNELS has no channel; EcsParrot needs at least one']);
      return n;
    },
    c: () => readConfig({
      DEDUPE_TABLE_NAME: env.string(),
      DEDUPE_WINDOW_SECONDS: env.int({ min: 60, max: 86_400, default: 3600 }),
      MINIMUM_SEVERITY: env.oneOf<Severity>(SEVERITIES, { default: 'WARNING' }),
      EVENT_KINDS: kindList(),
      SPOT_INTERRUPTIONS: env.bool({ default: true }),
      INSTANCE_DRAINING: env.bool({ default: true }),
      CLUSTERS: env.list({ default: [] }),
      SERVICES_INCLUDE: env.list({ default: [] }),
      SERVICES_EXCLUDE: env.list({ default: [] }),
      IGNORE_CONTAINERS: env.list({ default: [] }),
      API_CALLS: env.list({ default: [] }),
      ENRICHMENT: env.bool({ default: true }),
    }),
  });
  const settings: ParrotSettings = {
    minimumSeverity: c.MINIMUM_SEVERITY,
    kinds: new Set(c.EVENT_KINDS),
    spotInterruptions: c.SPOT_INTERRUPTIONS,
    instanceDraining: c.INSTANCE_DRAINING,
    clusters: new Set(c.CLUSTERS),
    servicesInclude: new Set(c.SERVICES_INCLUDE),
    servicesExclude: new Set(c.SERVICES_EXCLUDE),
    ignoreContainers: new Set(c.IGNORE_CONTAINERS),
    apiCalls: new Set(c.API_CALLS),
    enrichment: c.ENRICHMENT,
  };
  const channels = notifier.channels.map((channel, i) => channelLabel(channel, i));
  const store = new DedupeStore({ tableName: c.DEDUPE_TABLE_NAME, windowSeconds: c.DEDUPE_WINDOW_SECONDS, channels });
  return { settings, notifier, store, channels };
}
type Settings = ReturnType<typeof readSettings>;

/** What a run did, for logs, metrics and tests. */
export interface RunSummary {
  readonly received: number;
  readonly malformed: number;
  /** Events already delivered, or held by another invocation, or twice in this batch. */
  readonly repeated: number;
  readonly notReported: number;
  readonly messagesSent: number;
  readonly messagesSuppressed: number;
  readonly deliveryFailures: number;
  readonly dedupeErrors: number;
  readonly enrichmentErrors: number;
  /** Messages not started for lack of time: their records went back to the queue. */
  readonly notSentInTime: number;
  /** 1 when the dedupe table did not answer in time and was not used for the rest of the invocation. */
  readonly tableDown: number;
}

/** The handler, with notifier options for tests (a virtual clock, local webhooks). */
export function createHandler(notifierOptions: Omit<NotifierOptions, 'logger'> = {}) {
  return lambdaHandler({
    service: SERVICE,
    reserveMs: RESERVE_MS,
    config: () => readSettings(notifierOptions),
    run: (event: SQSEvent, invocation: Invocation<Settings>) => processBatch(event, invocation),
  });
}

export const handler = createHandler();

interface Item {
  readonly record: SQSRecord;
  readonly event: ParrotEvent;
}

interface Claimed extends Item {
  readonly claim: ClaimResult & { state: 'claimed' | 'unrecorded' };
}

async function processBatch(event: SQSEvent, invocation: Invocation<Settings>): Promise<SQSBatchResponse> {
  const { settings, notifier, store, channels } = invocation.config;
  const log = invocation.logger;
  const now = () => Math.floor(Date.now() / 1000);
  const records = Array.isArray(event?.Records) ? event.Records : [];
  const failed = new Set<string>();
  const summary: { -readonly [K in keyof RunSummary]: RunSummary[K] } = {
    received: records.length,
    malformed: 0,
    repeated: 0,
    notReported: 0,
    messagesSent: 0,
    messagesSuppressed: 0,
    deliveryFailures: 0,
    dedupeErrors: 0,
    enrichmentErrors: 0,
    notSentInTime: 0,
    tableDown: 0,
  };
  /** Why the dedupe table is no longer used in this invocation (see tableSlow). */
  let tableDown: string | undefined;

  // 1. Parse. A malformed event is logged and skipped: retrying it would not make it readable.
  const items: Item[] = [];
  for (const record of records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = body === undefined ? { malformed: 'the message body is not JSON' } : parseEvent(body);
    if ('malformed' in parsed) {
      summary.malformed++;
      log.warn('malformed event skipped', { messageId: record.messageId, reason: parsed.malformed, detailType: 'detailType' in parsed ? parsed.detailType : undefined });
      continue;
    }
    items.push({ record, event: parsed.event });
  }

  // 2. One copy of each event, and of a container instance only its latest state in the batch.
  const unique = latestOnly(firstOfEachKey(items, () => summary.repeated++), () => summary.repeated++);

  // 3. Keep what may be worth a message (enrichment can only rule more out), then claim it.
  const candidates = unique.filter((item) => {
    const c = classify(item.event, settings, {});
    if (!c.interesting) {
      summary.notReported++;
      log.debug('not reported', { key: item.event.key, why: c.why });
    }
    return c.interesting;
  });
  const leaseSeconds = Math.ceil((invocation.remainingTimeMs() ?? DEFAULT_LEASE_SECONDS * 1000) / 1000) + 5;
  const claims = await invocation.budget.child({ maxMs: CLAIMS_BUDGET_MS }).within(
    () => settleWithConcurrency(candidates, STORE_CONCURRENCY, (item) => store.claim(item.event.key, leaseSeconds, now())));
  const claimed: Claimed[] = [];
  const unclaimed: Array<{ key: string; error: string }> = [];
  claims.forEach((outcome, i) => {
    const claim: ClaimResult = outcome.status === 'fulfilled' ? outcome.value : { state: 'unrecorded', error: describeError(outcome.reason), cause: outcome.reason };
    if (claim.state === 'duplicate' || claim.state === 'busy') {
      summary.repeated++;
      log.info('repeat dropped', { key: candidates[i].event.key, state: claim.state });
      return;
    }
    if (claim.state === 'unrecorded') {
      summary.dedupeErrors++;
      unclaimed.push({ key: candidates[i].event.key, error: claim.error });
      tableSlow(claim.cause);
    }
    claimed.push({ ...candidates[i], claim });
  });
  if (unclaimed.length > 0) {
    log.error('dedupe table unavailable; these events go out without a claim (a duplicate is better than none)', {
      events: unclaimed.length,
      errors: [...new Set(unclaimed.map((u) => u.error))],
      keys: unclaimed.map((u) => u.key),
    });
  }
  if (claimed.length === 0) return finish();

  // 4. Enrich, then decide for good.
  let enrichment: Enrichment = NO_ENRICHMENT;
  if (settings.enrichment) {
    try {
      enrichment = await invocation.budget.child({ maxMs: ENRICHMENT_BUDGET_MS }).within(() => enrich(claimed.map((c) => c.event), log));
    } catch (error) {
      enrichment = { ...NO_ENRICHMENT, errors: [describeError(error)] };
      log.warn('enrichment failed; the messages go out without it', { error: describeError(error) });
    }
    summary.enrichmentErrors += enrichment.errors.length;
  }
  const findings: Array<{ finding: Finding; item: Claimed }> = [];
  const handled: Claimed[] = [];
  for (const item of claimed) {
    const c = classify(item.event, settings, enrichment.facts(item.event));
    if (c.interesting) {findings.push({ finding: c.finding, item });} else {
      summary.notReported++;
      log.info('not reported after enrichment', { key: item.event.key, why: c.why });
      handled.push(item);
    }
  }
  await recordWithin(() => settleWithConcurrency(handled, STORE_CONCURRENCY, (item) => markHandled(item)));

  // 5. One message per subject; events that some channels already have are retried apart, to those only.
  const itemOf = new Map(findings.map(({ finding, item }) => [finding, item]));
  const groups = new Map<string, Array<{ finding: Finding; item: Claimed }>>();
  for (const f of findings) {
    const delivered = f.item.claim.state === 'claimed' ? [...f.item.claim.delivered].sort().join(',') : '';
    const key = `${subjectKey(f.finding.subject)}|${delivered}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const digests = [...groups.values()].flatMap((group) => digest(group.map((g) => g.finding)).map((d) => ({
    digest: d,
    delivered: group[0].item.claim.state === 'claimed' ? group[0].item.claim.delivered : new Set<string>(),
  }))).sort((a, b) => severityRank(b.digest) - severityRank(a.digest));

  // 6. Ongoing failures: read their incidents (a first delivery only; a retry was decided before).
  const signatures = [...new Set(digests.filter((d) => d.delivered.size === 0)
    .flatMap((d) => d.digest.lines.filter((l) => l.backsOff).map((l) => l.signature)))];
  let incidents = new Map<string, IncidentState>();
  if (tableDown !== undefined && signatures.length > 0) {
    log.warn('ongoing failures not read (the dedupe table does not answer in time); reporting every one', { signatures: signatures.length });
  } else {
    try {
      incidents = await invocation.budget.child({ maxMs: INCIDENTS_BUDGET_MS }).within(() => store.readIncidents(signatures, now()));
    } catch (error) {
      summary.dedupeErrors++;
      tableSlow(error);
      log.error('could not read ongoing failures; reporting every one', { error: describeError(error) });
    }
  }

  // 7. Deliver, most severe first. A channel that failed once is not tried again in this invocation.
  const broken = new Set<number>();
  for (const { digest: d, delivered } of digests) {
    const members = d.findings.map((f) => itemOf.get(f)!);
    const decisions = new Map<string, IncidentDecision>();
    if (delivered.size === 0) {
      for (const line of d.lines.filter((l) => l.backsOff)) {
        const firstAt = Math.floor((parseTime(line.findings[0].event.time)?.getTime() ?? Date.now()) / 1000);
        const decision = decideIncident(incidents.get(line.signature), line.findings.length, now());
        decisions.set(line.signature, decision.ongoing ? decision : { ...decision, firstAt });
      }
      const reportable = d.lines.some((l) => !l.backsOff || decisions.get(l.signature)!.report);
      if (!reportable) {
        summary.messagesSuppressed++;
        log.info('ongoing failure, not reported again yet', {
          subject: d.subject, lines: d.lines.map((l) => ({ label: l.label, count: l.findings.length, total: decisions.get(l.signature)?.total })),
        });
        await recordWithin(() => settleWithConcurrency(members, STORE_CONCURRENCY, (item) => markHandled(item)));
        await recordIncidents(d, decisions, false);
        continue;
      }
    }
    const targets = channels.map((_, i) => i).filter((i) => !delivered.has(channels[i]));
    const tryNow = targets.filter((i) => !broken.has(i));
    let ok: number[] = [];
    if (tryNow.length > 0 && invocation.budget.hasTimeFor(MIN_TIME_TO_SEND_MS)) {
      const message = renderDigest(d, { facts: (e) => enrichment.facts(e), incidents: decisions });
      // Delivery ends with the time budget (the notifier reads its deadline).
      const results = await notifier.send(message, { channels: tryNow });
      ok = results.filter((r) => r.ok).map((r) => Number(r.channel.split('#')[1]));
      for (const r of results.filter((x) => !x.ok)) broken.add(Number(r.channel.split('#')[1]));
      log.info(ok.length > 0 ? 'message delivered' : 'message not delivered', {
        subject: d.subject,
        title: message.title,
        severity: d.severity,
        events: d.findings.length,
        delivered: ok.map((i) => channels[i]),
        failed: results.filter((r) => !r.ok).map((r) => r.channel),
      });
    } else if (tryNow.length > 0) {
      summary.notSentInTime++;
      log.warn('too little time left to send; the events go back to the queue', { subject: d.subject, remainingMs: invocation.budget.remainingMs() });
    }
    const missing = targets.filter((i) => !ok.includes(i));
    summary.deliveryFailures += missing.length;
    if (ok.length > 0) summary.messagesSent++;
    const okLabels = ok.map((i) => channels[i]);
    await recordWithin(() => settleWithConcurrency(members, STORE_CONCURRENCY, async (item) => {
      if (item.claim.state !== 'claimed' || tableDown !== undefined) return;
      try {
        if (okLabels.length > 0) await store.finish(item.event.key, item.claim.token, okLabels, now());
        else await store.release(item.event.key, item.claim.token);
      } catch (error) {
        // The lease runs out by itself before the record is retried.
        summary.dedupeErrors++;
        tableSlow(error);
        log.error('could not record the delivery of an event', { key: item.event.key, error: describeError(error) });
      }
    }));
    if (missing.length > 0) for (const item of members) failed.add(item.record.messageId);
    if (delivered.size === 0 && ok.length > 0) await recordIncidents(d, decisions, true);
  }
  return finish();

  async function markHandled(item: Claimed): Promise<void> {
    if (item.claim.state !== 'claimed' || tableDown !== undefined) return;
    try {
      await store.finish(item.event.key, item.claim.token, channels, now());
    } catch (error) {
      summary.dedupeErrors++;
      tableSlow(error);
      log.error('could not record an event as handled', { key: item.event.key, error: describeError(error) });
    }
  }

  async function recordIncidents(d: Digest, decisions: ReadonlyMap<string, IncidentDecision>, reported: boolean): Promise<void> {
    const lines = d.lines.filter((l) => decisions.has(l.signature));
    if (tableDown !== undefined) {
      if (lines.length > 0) log.warn('ongoing failures not recorded (the dedupe table does not answer in time)', { signatures: lines.map((l) => l.signature) });
      return;
    }
    await recordWithin(() => settleWithConcurrency(lines, STORE_CONCURRENCY, async (line) => {
      try {
        await store.recordIncident(line.signature, line.findings.length, reported, decisions.get(line.signature)!, now());
      } catch (error) {
        summary.dedupeErrors++;
        tableSlow(error);
        log.error('could not record an ongoing failure', { signature: line.signature, error: describeError(error) });
      }
    }));
  }

  /** Runs dedupe writes under the handler's reserve (the bookkeeping budget), each batch of them for at most RECORD_BUDGET_MS. */
  function recordWithin<T>(writes: () => Promise<T>): Promise<T> {
    return invocation.budget.bookkeeping.child({ maxMs: RECORD_BUDGET_MS }).within(writes);
  }

  /**
   * After a table error that cost time (out of time, a timeout, throttling past the retries), the table is not used
   * again in this invocation: a lease not finished runs out by itself, and what is not read is reported anyway.
   */
  function tableSlow(error: unknown): void {
    if (tableDown !== undefined || !costsTime(error)) return;
    tableDown = describeError(error);
    log.warn('the dedupe table does not answer in time; it is not used again in this invocation', { error: tableDown });
  }

  function finish(): SQSBatchResponse {
    if (tableDown !== undefined) summary.tableDown = 1;
    recordMetrics(summary, invocation);
    // The summary is logged, not returned: Lambda reads only batchItemFailures from the response.
    log.info('batch done', { summary: { ...summary, failedRecords: failed.size } });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  }
}

/** An error that cost the invocation time: out of time, a timeout, or throttling past the SDK's retries. */
function costsTime(error: unknown): boolean {
  if (isOutOfTime(error)) return true;
  const name = errorName(error);
  return name === 'TimeoutError' || name === 'ProvisionedThroughputExceededException' || name === 'ThrottlingException'
    || name === 'RequestLimitExceeded';
}

function severityRank(d: Digest): number {
  return SEVERITIES.indexOf(d.severity);
}

/** Keeps the first item of each event key; counts the others. */
function firstOfEachKey(items: readonly Item[], onRepeat: () => void): Item[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (seen.has(item.event.key)) {
      onRepeat();
      return false;
    }
    seen.add(item.event.key);
    return true;
  });
}

/** Keeps a container instance's latest state in the batch (highest `detail.version`); the others are superseded. */
function latestOnly(items: readonly Item[], onSuperseded: () => void): Item[] {
  const latest = new Map<string, number>();
  for (const { event } of items) {
    if (event.type === 'container-instance' && event.version !== undefined) {
      latest.set(event.containerInstanceArn, Math.max(latest.get(event.containerInstanceArn) ?? -Infinity, event.version));
    }
  }
  return items.filter(({ event }) => {
    if (event.type !== 'container-instance' || event.version === undefined || event.version === latest.get(event.containerInstanceArn)) return true;
    onSuperseded();
    return false;
  });
}

function recordMetrics(summary: RunSummary, invocation: Invocation<Settings>): void {
  const metrics = invocation.metrics();
  const add = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  add('EventsReceived', summary.received);
  add('EventsMalformed', summary.malformed);
  add('EventsRepeated', summary.repeated);
  add('EventsNotReported', summary.notReported);
  add('MessagesSent', summary.messagesSent);
  add('MessagesSuppressed', summary.messagesSuppressed);
  add('DeliveryFailures', summary.deliveryFailures);
  add('DedupeErrors', summary.dedupeErrors);
  add('EnrichmentErrors', summary.enrichmentErrors);
  add('MessagesNotSentInTime', summary.notSentInTime);
}


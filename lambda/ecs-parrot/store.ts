/**
 * The dedupe table: which events have reached which channels, and which failures are ongoing.
 *
 * One item per event (`pk = event#<key>`), written before its message is sent: a conditional PutItem claims it
 * for this invocation with a lease, so of two deliveries of the same event (EventBridge and SQS both deliver at
 * least once, and two copies can be in two concurrent batches) only one sends. After a send, the item records the
 * channels that took the message and lives for the dedupe window (an hour), so a repeat is dropped; after a
 * failed send the lease is released so the retry can claim it, and only the channels still missing are tried.
 * A lease outlives no invocation (it is the function's timeout), so a crashed invocation's claims free themselves
 * before SQS makes its messages visible again (the visibility timeout is six times longer).
 *
 * One item per ongoing failure (`pk = incident#<signature>`): how often it happened and when it was last reported,
 * for `decideIncident`.
 *
 * TTL deletes expired items eventually (within days), so every read and condition compares `expiresAt` with now.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { IncidentDecision, IncidentState } from './core';
import { clientConfig, chunk, describeError, lazy } from '../common/aws';

const dynamodb = lazy(async () => {
  const sdk = await import('./clients/dynamodb');
  return { sdk, client: new sdk.DynamoDBClient(clientConfig()) };
});

export type ClaimResult =
  /** This invocation holds the event; `delivered` are the channels that already have it. */
  | { readonly state: 'claimed'; readonly token: string; readonly delivered: ReadonlySet<string> }
  /** Every channel has it: a repeat. */
  | { readonly state: 'duplicate' }
  /** Another invocation holds it now. */
  | { readonly state: 'busy' }
  /** The table could not be read or written (or not in time): send anyway (a duplicate message is better than none). */
  | { readonly state: 'unrecorded'; readonly error: string; readonly cause?: unknown };

/** Attribute names, always through placeholders (several are DynamoDB reserved words). */
const N = {
  '#pk': 'pk',
  '#token': 'token',
  '#leaseUntil': 'leaseUntil',
  '#expiresAt': 'expiresAt',
  '#delivered': 'delivered',
  '#occurrences': 'occurrences',
  '#reported': 'reported',
  '#reportedAt': 'reportedAt',
  '#firstAt': 'firstAt',
} as const;
const names = (...keys: Array<keyof typeof N>) => Object.fromEntries(keys.map((k) => [k, N[k]]));
const n = (value: number): AttributeValue => ({ N: String(Math.floor(value)) });

/** Keys are readable (ARNs) and, when too long for a key, shortened with a hash of the whole. */
function itemKey(prefix: string, key: string): string {
  const full = `${prefix}#${key}`;
  if (full.length <= 1024) return full;
  return `${full.slice(0, 960)}#${createHash('sha256').update(full).digest('hex')}`;
}

function isConditionFailure(error: unknown): error is { name: string; Item?: Record<string, AttributeValue> } {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export interface DedupeStoreOptions {
  readonly tableName: string;
  /** How long a delivered event, and a quiet incident, is remembered. */
  readonly windowSeconds: number;
  /** Every channel's label (`slack#0`): an event is a repeat once all of them have it. */
  readonly channels: readonly string[];
}

export class DedupeStore {
  constructor(private readonly options: DedupeStoreOptions) {}

  /** Claims an event for `leaseSeconds`. Never throws: a table failure comes back as `unrecorded`. */
  public async claim(key: string, leaseSeconds: number, nowSeconds: number): Promise<ClaimResult> {
    try {
      return await this.tryClaim(key, leaseSeconds, nowSeconds, 2);
    } catch (error) {
      return { state: 'unrecorded', error: describeError(error), cause: error };
    }
  }

  private async tryClaim(key: string, leaseSeconds: number, now: number, attempts: number): Promise<ClaimResult> {
    const { sdk, client } = await dynamodb();
    const pk = { S: itemKey('event', key) };
    const token = randomUUID();
    try {
      await client.send(new sdk.PutItemCommand({
        TableName: this.options.tableName,
        Item: { pk, token: { S: token }, leaseUntil: n(now + leaseSeconds), expiresAt: n(now + this.options.windowSeconds) },
        ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt <= :now',
        ExpressionAttributeNames: names('#pk', '#expiresAt'),
        ExpressionAttributeValues: { ':now': n(now) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return { state: 'claimed', token, delivered: new Set() };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = error.Item ?? {};
      const delivered = new Set(old.delivered?.SS ?? []);
      if (this.options.channels.every((c) => delivered.has(c))) return { state: 'duplicate' };
      if (Number(old.leaseUntil?.N ?? 0) > now) return { state: 'busy' };
    }
    // A live item that some channel still lacks and nobody holds: the retry of a failed send. Take it over.
    try {
      const out = await client.send(new sdk.UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { pk },
        UpdateExpression: 'SET #token = :token, #leaseUntil = :lease, #expiresAt = :exp',
        ConditionExpression: '#expiresAt > :now AND (attribute_not_exists(#leaseUntil) OR #leaseUntil <= :now)',
        ExpressionAttributeNames: names('#token', '#leaseUntil', '#expiresAt'),
        ExpressionAttributeValues: { ':token': { S: token }, ':lease': n(now + leaseSeconds), ':exp': n(now + this.options.windowSeconds), ':now': n(now) },
        ReturnValues: 'ALL_NEW',
      }));
      return { state: 'claimed', token, delivered: new Set(out.Attributes?.delivered?.SS ?? []) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Taken by another invocation, or expired in between (then claim it afresh).
      if (attempts > 1) return this.tryClaim(key, leaseSeconds, now, attempts - 1);
      return { state: 'busy' };
    }
  }

  /** Records the channels that took the event's message and gives up the lease. Throws on a table failure. */
  public async finish(key: string, token: string, channels: readonly string[], nowSeconds: number): Promise<'done' | 'lost'> {
    const { sdk, client } = await dynamodb();
    try {
      await client.send(new sdk.UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: itemKey('event', key) } },
        UpdateExpression: `${channels.length > 0 ? 'ADD #delivered :channels ' : ''}SET #expiresAt = :exp REMOVE #leaseUntil, #token`,
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: names(...(channels.length > 0 ? ['#delivered' as const] : []), '#expiresAt', '#leaseUntil', '#token'),
        ExpressionAttributeValues: {
          ...(channels.length > 0 ? { ':channels': { SS: [...channels] } } : {}),
          ':exp': n(nowSeconds + this.options.windowSeconds),
          ':token': { S: token },
        },
      }));
      return 'done';
    } catch (error) {
      // The lease ran out and another invocation took the event over: it will record its own delivery.
      if (isConditionFailure(error)) return 'lost';
      throw error;
    }
  }

  /** Gives up the lease after a failed send, so the retry can claim the event at once. Throws on a table failure. */
  public async release(key: string, token: string): Promise<void> {
    const { sdk, client } = await dynamodb();
    try {
      await client.send(new sdk.UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: itemKey('event', key) } },
        UpdateExpression: 'REMOVE #leaseUntil, #token',
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: names('#leaseUntil', '#token'),
        ExpressionAttributeValues: { ':token': { S: token } },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The live incidents among `signatures`. Throws on a table failure. */
  public async readIncidents(signatures: readonly string[], nowSeconds: number): Promise<Map<string, IncidentState>> {
    const found = new Map<string, IncidentState>();
    if (signatures.length === 0) return found;
    const { sdk, client } = await dynamodb();
    const bySignature = new Map(signatures.map((s) => [itemKey('incident', s), s]));
    for (const batch of chunk([...bySignature.keys()], 100)) {
      let keys: Array<Record<string, AttributeValue>> = batch.map((pk) => ({ pk: { S: pk } }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= 5) throw new Error(`BatchGetItem left ${keys.length} key(s) unprocessed after ${attempt} attempts`);
        const out = await client.send(new sdk.BatchGetItemCommand({
          RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } },
        }));
        for (const item of out.Responses?.[this.options.tableName] ?? []) {
          if (Number(item.expiresAt?.N ?? 0) <= nowSeconds) continue;
          found.set(bySignature.get(item.pk.S!)!, {
            occurrences: Number(item.occurrences?.N ?? 0),
            reported: Number(item.reported?.N ?? 0),
            reportedAt: Number(item.reportedAt?.N ?? 0),
            firstAt: Number(item.firstAt?.N ?? nowSeconds),
          });
        }
        keys = (out.UnprocessedKeys?.[this.options.tableName]?.Keys ?? []) as Array<Record<string, AttributeValue>>;
        if (keys.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
    return found;
  }

  /**
   * Counts `fresh` events of an incident; `reported` when they went out in a message. Throws on a table failure.
   */
  public async recordIncident(signature: string, fresh: number, reported: boolean, decision: IncidentDecision, nowSeconds: number): Promise<void> {
    const { sdk, client } = await dynamodb();
    const pk = { S: itemKey('incident', signature) };
    const exp = n(nowSeconds + this.options.windowSeconds);
    try {
      await client.send(reported
        ? new sdk.UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { pk },
          UpdateExpression: 'SET #reported = if_not_exists(#occurrences, :zero) + :k, #reportedAt = :now, #firstAt = if_not_exists(#firstAt, :first), '
            + '#expiresAt = :exp ADD #occurrences :k',
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt > :now',
          ExpressionAttributeNames: names('#pk', '#reported', '#occurrences', '#reportedAt', '#firstAt', '#expiresAt'),
          ExpressionAttributeValues: { ':zero': n(0), ':k': n(fresh), ':now': n(nowSeconds), ':first': n(decision.firstAt), ':exp': exp },
        })
        : new sdk.UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { pk },
          UpdateExpression: 'SET #expiresAt = :exp ADD #occurrences :k',
          ConditionExpression: '#expiresAt > :now',
          ExpressionAttributeNames: names('#expiresAt', '#occurrences'),
          ExpressionAttributeValues: { ':k': n(fresh), ':now': n(nowSeconds), ':exp': exp },
        }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (!reported) return; // it ended in between: the next event starts it afresh
      // An expired record TTL has not deleted yet: start the incident afresh.
      await client.send(new sdk.PutItemCommand({
        TableName: this.options.tableName,
        Item: { pk, occurrences: n(fresh), reported: n(fresh), reportedAt: n(nowSeconds), firstAt: n(decision.firstAt), expiresAt: exp },
      }));
    }
  }
}

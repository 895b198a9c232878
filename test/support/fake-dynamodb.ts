/**
 * An in-memory DynamoDB failure-count table for scenario tests: it answers the real `DynamoDBClient`
 * (through aws-sdk-client-mock, on the prototype, so module-scope clients are answered too) for
 * exactly the calls the agent monitor's `DynamoDbFailureStore` makes, and fails loudly on anything else,
 * so a change of request shape breaks the tests instead of passing silently.
 *
 * ```ts
 * const table = new FakeDynamoDb({ tableName: 'failures' });
 * beforeEach(() => table.install());
 * afterEach(() => table.uninstall());
 *
 * await handler();
 * expect(table.count('prod', instanceArn)).toBe(1);
 * table.startOutage();                       // every call rejects with InternalServerError (HTTP 500)
 * ```
 *
 * Modelled: Query (key condition on the partition key, projection, pagination by `pageSize` with
 * `LastEvaluatedKey`), UpdateItem (the store's increment `ADD failures :one SET ...` with its once-per-period
 * condition, the restart of an expired count, the outage guard's `SET expiresAt`, and the detached-instance
 * record, each with its exact condition and `ReturnValues: UPDATED_NEW`), BatchWriteItem (DeleteRequests, at most 25).
 * TTL deletion is not modelled: an expired item stays until deleted (the store skips it, as it must).
 *
 * For tables of other shapes (`keySchema`, e.g. the agent updater's state table keyed by `cluster` alone):
 * BatchGetItem (at most 100 keys, `Responses` and `UnprocessedKeys`) and PutRequests in BatchWriteItem.
 * `returnUnprocessed(n)` makes the next batch calls leave `n` requests unprocessed, as DynamoDB does under load.
 */
import {
  AttributeValue,
  BatchGetItemCommandInput,
  BatchWriteItemCommandInput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  QueryCommandInput,
  ResourceNotFoundException,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/** The commands the fake answers. */
export type FakeDynamoDbCommand = 'Query' | 'UpdateItem' | 'BatchWriteItem' | 'BatchGetItem';

/** One recorded call. */
export interface FakeDynamoDbCall {
  readonly command: string;
  readonly input: any;
  /** Set when the call rejected (an outage or a request the fake refuses). */
  error?: Error;
}

export interface FakeDynamoDbOptions {
  /** @default 'ecs-agent-monitor-failures' */
  readonly tableName?: string;
  /** ARN used for `iamRequests()`. @default arn:aws:dynamodb:us-east-1:123456789012:table/<tableName> */
  readonly tableArn?: string;
  /**
   * The table's key: its partition key and, if it has one, its sort key (both strings).
   * @default { partitionKey: 'cluster', sortKey: 'instance' } (the agent monitor's failure table)
   */
  readonly keySchema?: { readonly partitionKey: string; readonly sortKey?: string };
}

/** Options of {@link FakeDynamoDb.startOutage}. */
export interface DynamoDbOutage {
  /** Only these commands fail. @default - every command */
  readonly commands?: readonly FakeDynamoDbCommand[];
  /** What each failing call rejects with. @default - a fresh InternalServerError (HTTP 500) per call */
  readonly error?: () => Error;
}

const KEY_SEPARATOR = '\u0000';

function metadata(httpStatusCode: number) {
  return { httpStatusCode, requestId: 'FAKEDYNAMODBREQUESTID', attempts: 1, totalRetryDelay: 0 };
}

export class FakeDynamoDb {
  public readonly tableName: string;
  public readonly tableArn: string;
  /** Items by `cluster \0 instance`. */
  public readonly items = new Map<string, Item>();
  /** Every call, in order. */
  public readonly calls: FakeDynamoDbCall[] = [];
  /** Largest Query page. */
  public pageSize = 1000;
  /** UpdateItem of these instances is throttled (ProvisionedThroughputExceededException). */
  public readonly throttledInstances = new Set<string>();
  /**
   * Each entry: the next batch call (BatchWriteItem, BatchGetItem) leaves that many of its last requests
   * unprocessed. Taken before `returnUnprocessed`.
   */
  public unprocessedPlan: number[] = [];
  /** Most calls in flight at once so far. */
  public maxInFlight = 0;
  private inFlight = 0;
  /** The aws-sdk-client-mock stub while installed. */
  public mock?: AwsStub<any, any, any>;

  /** The table's key attributes. */
  public readonly keySchema: { readonly partitionKey: string; readonly sortKey?: string };

  private outage?: DynamoDbOutage;
  private unprocessed = 0;

  constructor(options: FakeDynamoDbOptions = {}) {
    this.tableName = options.tableName ?? 'ecs-agent-monitor-failures';
    this.tableArn = options.tableArn ?? `arn:aws:dynamodb:us-east-1:123456789012:table/${this.tableName}`;
    this.keySchema = options.keySchema ?? { partitionKey: 'cluster', sortKey: 'instance' };
  }

  /** The item with this partition (and sort) key value, or undefined. */
  public item(partitionKey: string, sortKey?: string): Item | undefined {
    return this.items.get(this.storageKey({
      [this.keySchema.partitionKey]: { S: partitionKey },
      ...(this.keySchema.sortKey ? { [this.keySchema.sortKey]: { S: sortKey ?? '' } } : {}),
    }));
  }

  /** Store an item as it is (Prepare); its key attributes must be strings. */
  public putItem(item: Item): void {
    this.items.set(this.storageKey(item), structuredClone(item));
  }

  /** The next BatchGetItem and BatchWriteItem calls leave `count` requests in all unprocessed (the last ones of each call). */
  public returnUnprocessed(count: number): void {
    this.unprocessed = count;
  }

  /** Make every `DynamoDBClient` answer from this table. */
  public install(): this {
    if (this.mock) return this;
    this.mock = mockClient(DynamoDBClient);
    this.mock.send.callsFake((command: any) => this.dispatch(command));
    return this;
  }

  /** Restore the real client. Safe to call when not installed. */
  public uninstall(): void {
    this.mock?.restore();
    this.mock = undefined;
  }

  /** Make calls reject until `endOutage()`. */
  public startOutage(outage: DynamoDbOutage = {}): void {
    this.outage = outage;
  }

  public endOutage(): void {
    this.outage = undefined;
  }

  /** The stored count of one instance (`undefined` when no item). */
  public count(cluster: string, instanceArn: string): number | undefined {
    const item = this.items.get(cluster + KEY_SEPARATOR + instanceArn);
    return item?.failures ? Number(item.failures.N) : undefined;
  }

  /** When a count expires, in epoch seconds (`undefined` when no item). */
  public expiresAt(cluster: string, instanceArn: string): number | undefined {
    const item = this.items.get(cluster + KEY_SEPARATOR + instanceArn);
    return item ? Number(item.expiresAt.N) : undefined;
  }

  /** Every stored count of a cluster, keyed by container instance ARN. */
  public counts(cluster: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const item of this.items.values()) {
      if (item.cluster.S === cluster && item.failures) out.set(item.instance.S!, Number(item.failures.N));
    }
    return out;
  }

  /** The EC2 instance ids the store remembers as detached in a cluster (and their groups). */
  public detached(cluster: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const item of this.items.values()) {
      if (item.cluster.S === cluster && item.instance.S!.startsWith('detached#')) out.set(item.instance.S!.slice('detached#'.length), item.group.S!);
    }
    return out;
  }

  /** Store a count directly (Prepare). */
  public put(
    cluster: string, instanceArn: string, failures: number, expiresAtSeconds = Math.floor(Date.now() / 1000) + 86_400, countedAtSeconds?: number,
  ): void {
    this.items.set(cluster + KEY_SEPARATOR + instanceArn, {
      cluster: { S: cluster },
      instance: { S: instanceArn },
      failures: { N: String(failures) },
      updatedAt: { S: new Date().toISOString() },
      expiresAt: { N: String(expiresAtSeconds) },
      ...(countedAtSeconds !== undefined ? { countedAt: { N: String(countedAtSeconds) } } : {}),
    });
  }

  /** Recorded calls of one command. */
  public callsTo(command: FakeDynamoDbCommand): FakeDynamoDbCall[] {
    return this.calls.filter((c) => c.command === command);
  }

  /** Forget the recorded calls (items stay). */
  public resetCalls(): void {
    this.calls.length = 0;
  }

  /** The IAM request of every recorded call (`dynamodb:<Command>` on the table ARN). */
  public iamRequests(): Array<{ action: string; resource: string }> {
    return this.calls.map((c) => ({ action: `dynamodb:${c.command}`, resource: this.tableArn }));
  }

  private async dispatch(command: any): Promise<unknown> {
    const name = String(command?.constructor?.name ?? 'Unknown').replace(/Command$/, '');
    const input = structuredClone(command?.input ?? {});
    const call: FakeDynamoDbCall = { command: name, input };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Answer asynchronously, as the network would, so concurrent calls interleave.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      if (this.outage && (!this.outage.commands || this.outage.commands.includes(name as FakeDynamoDbCommand))) {
        throw this.outage.error?.() ?? new InternalServerError({ message: 'Internal server error', $metadata: metadata(500) });
      }
      const output = this.answer(name, input);
      return { ...output, $metadata: metadata(200) };
    } catch (error) {
      call.error = error as Error;
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  private answer(name: string, input: any): object {
    switch (name) {
      case 'Query': return this.query(input);
      case 'UpdateItem': return this.updateItem(input);
      case 'BatchWriteItem': return this.batchWriteItem(input);
      case 'BatchGetItem': return this.batchGetItem(input);
      default: throw new Error(`FakeDynamoDb does not model ${name}`);
    }
  }

  private requireTable(tableName: string | undefined): void {
    if (tableName !== this.tableName) {
      throw new ResourceNotFoundException({ message: `Requested resource not found: Table: ${tableName} not found`, $metadata: metadata(400) });
    }
  }

  private query(input: QueryCommandInput): object {
    this.requireTable(input.TableName);
    const names = input.ExpressionAttributeNames ?? {};
    const condition = /^\s*(#\w+|\w+)\s*=\s*(:\w+)\s*$/.exec(input.KeyConditionExpression ?? '');
    if (!condition || (names[condition[1]] ?? condition[1]) !== 'cluster') {
      throw new Error(`FakeDynamoDb: Query needs KeyConditionExpression "<cluster> = :value", got ${input.KeyConditionExpression}`);
    }
    const cluster = input.ExpressionAttributeValues?.[condition[2]]?.S;
    if (cluster === undefined) throw new Error(`FakeDynamoDb: Query has no string value for ${condition[2]}`);
    const projection = input.ProjectionExpression?.split(',').map((p) => p.trim()).map((p) => names[p] ?? p);

    const all = [...this.items.values()]
      .filter((item) => item.cluster.S === cluster)
      .sort((a, b) => a.instance.S!.localeCompare(b.instance.S!));
    const start = input.ExclusiveStartKey
      ? all.findIndex((item) => item.instance.S! > input.ExclusiveStartKey!.instance.S!)
      : 0;
    const from = start < 0 ? all.length : start;
    const size = Math.min(this.pageSize, input.Limit ?? Infinity);
    const page = all.slice(from, from + size);
    const last = page[page.length - 1];
    return {
      Items: page.map((item) => projection
        ? Object.fromEntries(projection.filter((a) => item[a] !== undefined).map((a) => [a, item[a]]))
        : item),
      Count: page.length,
      ...(from + size < all.length ? { LastEvaluatedKey: { cluster: last.cluster, instance: last.instance } } : {}),
    };
  }

  private updateItem(input: UpdateItemCommandInput): object {
    this.requireTable(input.TableName);
    const keyNames = Object.keys(input.Key ?? {}).sort();
    if (keyNames.join(',') !== 'cluster,instance') throw new Error(`FakeDynamoDb: UpdateItem key must be {cluster, instance}, got ${keyNames}`);
    if (input.ReturnValues !== 'UPDATED_NEW') throw new Error(`FakeDynamoDb: UpdateItem must ask for UPDATED_NEW, got ${input.ReturnValues}`);
    const cluster = input.Key!.cluster.S!;
    const instance = input.Key!.instance.S!;
    const values = input.ExpressionAttributeValues ?? {};
    if (this.throttledInstances.has(instance)) {
      throw new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: metadata(400) });
    }
    const key = cluster + KEY_SEPARATOR + instance;
    const item = this.items.get(key);
    const nowSeconds = Number(values[':nowSeconds']?.N);
    const expired = item?.expiresAt !== undefined && Number(item.expiresAt.N) <= nowSeconds;
    const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: metadata(400) });

    const counted = item?.countedAt !== undefined ? Number(item.countedAt.N) : undefined;
    const countedBefore = Number(values[':countedBefore']?.N);

    let updated: Item;
    switch (input.UpdateExpression) {
      case 'ADD failures :one SET updatedAt = :now, expiresAt = :exp, countedAt = :nowSeconds': {
        expectCondition('(attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds) AND (attribute_not_exists(countedAt) OR countedAt <= :countedBefore)');
        if ((item && expired) || (counted !== undefined && counted > countedBefore)) throw conditionFailed();
        const failures = (item ? Number(item.failures.N) : 0) + Number(values[':one'].N);
        updated = { cluster: { S: cluster }, instance: { S: instance }, failures: { N: String(failures) }, updatedAt: values[':now'], expiresAt: values[':exp'], countedAt: values[':nowSeconds'] };
        break;
      }
      case 'SET failures = :one, updatedAt = :now, expiresAt = :exp, countedAt = :nowSeconds':
        expectCondition('attribute_exists(expiresAt) AND expiresAt <= :nowSeconds');
        if (!item || item.expiresAt === undefined || !expired) throw conditionFailed();
        updated = { cluster: { S: cluster }, instance: { S: instance }, failures: values[':one'], updatedAt: values[':now'], expiresAt: values[':exp'], countedAt: values[':nowSeconds'] };
        break;
      case 'SET expiresAt = :exp':
        expectCondition('attribute_exists(failures) AND expiresAt > :nowSeconds');
        if (!item || item.failures === undefined || expired) throw conditionFailed();
        updated = { ...item, expiresAt: values[':exp'] };
        break;
      case 'SET #group = :group, detachedAt = :detachedAt, expiresAt = :exp':
        if (input.ConditionExpression !== undefined || input.ExpressionAttributeNames?.['#group'] !== 'group') {
          throw new Error(`FakeDynamoDb: unexpected detached-instance update ${JSON.stringify(input)}`);
        }
        updated = { cluster: { S: cluster }, instance: { S: instance }, group: values[':group'], detachedAt: values[':detachedAt'], expiresAt: values[':exp'] };
        break;
      default:
        throw new Error(`FakeDynamoDb: unexpected UpdateExpression ${input.UpdateExpression}`);
    }
    this.items.set(key, updated);
    const { cluster: _c, instance: _i, ...attributes } = updated;
    return { Attributes: attributes };

    function expectCondition(expected: string): void {
      if (input.ConditionExpression !== expected) {
        throw new Error(`FakeDynamoDb: unexpected ConditionExpression ${input.ConditionExpression} for ${input.UpdateExpression}`);
      }
    }
  }

  private batchWriteItem(input: BatchWriteItemCommandInput): object {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error(`FakeDynamoDb: BatchWriteItem to one table expected, got ${tables}`);
    this.requireTable(tables[0]);
    const requests = input.RequestItems![tables[0]];
    if (requests.length < 1 || requests.length > 25) {
      throw new Error(`FakeDynamoDb: BatchWriteItem takes 1 to 25 requests, got ${requests.length}`);
    }
    const { done, left } = this.splitUnprocessed(requests);
    for (const request of done) {
      if (request.DeleteRequest?.Key && this.isKey(request.DeleteRequest.Key)) {
        this.items.delete(this.storageKey(request.DeleteRequest.Key));
      } else if (request.PutRequest?.Item && this.hasKey(request.PutRequest.Item)) {
        this.items.set(this.storageKey(request.PutRequest.Item), request.PutRequest.Item);
      } else {
        throw new Error(`FakeDynamoDb: only DeleteRequests and PutRequests keyed by ${this.keyNames()} are modelled, got ${JSON.stringify(request)}`);
      }
    }
    return { UnprocessedItems: left.length > 0 ? { [tables[0]]: left } : {} };
  }

  private batchGetItem(input: BatchGetItemCommandInput): object {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error(`FakeDynamoDb: BatchGetItem from one table expected, got ${tables}`);
    this.requireTable(tables[0]);
    const request = input.RequestItems![tables[0]];
    const keys = request.Keys ?? [];
    if (keys.length < 1 || keys.length > 100) throw new Error(`FakeDynamoDb: BatchGetItem takes 1 to 100 keys, got ${keys.length}`);
    const distinctKeys = new Set(keys.map((k) => JSON.stringify(k)));
    if (distinctKeys.size !== keys.length) {
      // What DynamoDB answers for a repeated key.
      throw new Error('FakeDynamoDb: ValidationException: Provided list of item keys contains duplicates');
    }
    for (const key of keys) if (!this.isKey(key)) throw new Error(`FakeDynamoDb: BatchGetItem key must be ${this.keyNames()}, got ${JSON.stringify(key)}`);
    if (request.AttributesToGet !== undefined || request.ProjectionExpression !== undefined) {
      throw new Error('FakeDynamoDb: BatchGetItem projections are not modelled');
    }
    const { done, left } = this.splitUnprocessed(keys);
    const found = done.map((key) => this.items.get(this.storageKey(key))).filter((item): item is Item => item !== undefined);
    return {
      Responses: { [tables[0]]: found.map((item) => structuredClone(item)) },
      UnprocessedKeys: left.length > 0 ? { [tables[0]]: { ...request, Keys: left } } : {},
    };
  }

  /** Splits a batch into what is done now and what is left unprocessed (see `unprocessedPlan` and `returnUnprocessed`). */
  private splitUnprocessed<T>(requests: T[]): { done: T[]; left: T[] } {
    const planned = this.unprocessedPlan.shift();
    const count = Math.min(planned ?? this.unprocessed, requests.length);
    if (count <= 0) return { done: requests, left: [] };
    if (planned === undefined) this.unprocessed -= count;
    return { done: requests.slice(0, requests.length - count), left: requests.slice(requests.length - count) };
  }

  private keyNames(): string {
    return `{${[this.keySchema.partitionKey, this.keySchema.sortKey].filter(Boolean).join(', ')}}`;
  }

  /** True when `key` has exactly the key attributes, as strings. */
  private isKey(key: Record<string, AttributeValue>): boolean {
    const names = [this.keySchema.partitionKey, this.keySchema.sortKey].filter((n): n is string => !!n).sort();
    return Object.keys(key).sort().join(',') === names.join(',') && this.hasKey(key);
  }

  /** True when `item` has every key attribute as a string. */
  private hasKey(item: Record<string, AttributeValue>): boolean {
    return [this.keySchema.partitionKey, this.keySchema.sortKey].every((n) => !n || typeof item[n]?.S === 'string');
  }

  private storageKey(item: Record<string, AttributeValue>): string {
    const sortKey = this.keySchema.sortKey;
    return item[this.keySchema.partitionKey].S! + (sortKey ? KEY_SEPARATOR + item[sortKey].S! : '');
  }
}

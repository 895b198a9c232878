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
 * A table created with `keySchema` is a generic table instead: GetItem, BatchGetItem, PutItem, UpdateItem,
 * DeleteItem and BatchWriteItem (PutRequests and DeleteRequests, at most 25) with condition, update and projection expressions evaluated as DynamoDB evaluates them (the subset in
 * fake-dynamodb/expressions.ts; anything else fails loudly), conditional failures with
 * `ReturnValuesOnConditionCheckFailure`, and the request checks DynamoDB makes (key attributes, unused placeholders,
 * at most 100 distinct keys in a BatchGetItem). `unprocessedPlan` and `returnUnprocessed(n)` make batch calls leave
 * requests unprocessed, as DynamoDB does under load.
 *
 * ```ts
 * const table = new FakeDynamoDb({ tableName: 'dedupe', keySchema: { partitionKey: 'pk' } }).install();
 * await handler(event);
 * expect(table.itemByKey({ pk: { S: 'event#...' } })?.delivered).toEqual({ SS: ['slack#0'] });
 * ```
 */
import {
  AttributeValue,
  BatchGetItemCommandInput,
  BatchWriteItemCommandInput,
  ConditionalCheckFailedException,
  DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommandInput,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommandInput,
  QueryCommandInput,
  ResourceNotFoundException,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import {
  ExpressionAttributes, ExpressionError, Placeholders, applyUpdate, checkAllPlaceholdersUsed, parseCondition, parseProjection,
} from './fake-dynamodb/expressions';

type Item = Record<string, AttributeValue>;

/** The commands the fake answers (the last four only for a generic table, one with a `keySchema`). */
export type FakeDynamoDbCommand = 'Query' | 'UpdateItem' | 'BatchWriteItem' | 'GetItem' | 'BatchGetItem' | 'PutItem' | 'DeleteItem';

/** The key attributes of a generic table. */
export interface FakeDynamoDbKeySchema {
  readonly partitionKey: string;
  /** @default - no sort key */
  readonly sortKey?: string;
}

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
   * The key attributes of a generic table (GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem with expressions).
   * @default - the agent monitor's failure table (`cluster` and `instance`, the monitor's exact requests)
   */
  readonly keySchema?: FakeDynamoDbKeySchema;
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

  /** The key attributes, for a generic table. */
  public readonly keySchema?: FakeDynamoDbKeySchema;

  private outage?: DynamoDbOutage;
  private unprocessed = 0;

  constructor(options: FakeDynamoDbOptions = {}) {
    this.tableName = options.tableName ?? 'ecs-agent-monitor-failures';
    this.tableArn = options.tableArn ?? `arn:aws:dynamodb:us-east-1:123456789012:table/${this.tableName}`;
    this.keySchema = options.keySchema;
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

  /**
   * The raw item of one key (`undefined` when none): `cluster` and `instance` of the failure table, or the string
   * partition (and sort) key values of a generic table.
   */
  public item(partitionKey: string, sortKey?: string): Record<string, AttributeValue> | undefined {
    if (!this.keySchema) return this.items.get(partitionKey + KEY_SEPARATOR + sortKey);
    return this.itemByKey({
      [this.keySchema.partitionKey]: { S: partitionKey },
      ...(this.keySchema.sortKey ? { [this.keySchema.sortKey]: { S: sortKey ?? '' } } : {}),
    });
  }

  /** The next batch calls leave `count` requests in all unprocessed (the last ones of each call). */
  public returnUnprocessed(count: number): void {
    this.unprocessed = count;
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

  /** An item of a generic table by its key (`undefined` when none). */
  public itemByKey(key: Item): Item | undefined {
    const found = this.items.get(this.genericKey(key));
    return found ? structuredClone(found) : undefined;
  }

  /** Store an item of a generic table directly (Prepare). */
  public putItem(item: Item): void {
    this.items.set(this.genericKey(item), structuredClone(item));
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
    if (this.keySchema) return this.answerGeneric(name, input);
    switch (name) {
      case 'Query': return this.query(input);
      case 'UpdateItem': return this.updateItem(input);
      case 'BatchWriteItem': return this.batchWriteItem(input);
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
      const k = request.DeleteRequest?.Key;
      if (!k || Object.keys(k).sort().join(',') !== 'cluster,instance') {
        throw new Error(`FakeDynamoDb: only DeleteRequests keyed by {cluster, instance} are modelled, got ${JSON.stringify(request)}`);
      }
      this.items.delete(k.cluster.S! + KEY_SEPARATOR + k.instance.S!);
    }
    return { UnprocessedItems: left.length > 0 ? { [tables[0]]: left } : {} };
  }

  /** Splits a batch into what is done now and what is left unprocessed (see `unprocessedPlan` and `returnUnprocessed`). */
  private splitUnprocessed<T>(requests: T[]): { done: T[]; left: T[] } {
    const planned = this.unprocessedPlan.shift();
    const count = Math.min(planned ?? this.unprocessed, requests.length);
    if (count <= 0) return { done: requests, left: [] };
    if (planned === undefined) this.unprocessed -= count;
    return { done: requests.slice(0, requests.length - count), left: requests.slice(requests.length - count) };
  }

  // ---------------------------------------------------------------------------------------------- generic table

  private answerGeneric(name: string, input: any): object {
    for (const legacy of ['Expected', 'AttributeUpdates', 'ConditionalOperator', 'AttributesToGet', 'KeyConditions', 'QueryFilter']) {
      if (input[legacy] !== undefined) throw new Error(`FakeDynamoDb does not model the legacy parameter ${legacy}; use expressions`);
    }
    try {
      switch (name) {
        case 'GetItem': return this.getItem(input);
        case 'BatchGetItem': return this.batchGetItem(input);
        case 'PutItem': return this.putItemCommand(input);
        case 'UpdateItem': return this.updateItemGeneric(input);
        case 'DeleteItem': return this.deleteItem(input);
        case 'BatchWriteItem': return this.batchWriteItemGeneric(input);
        default: throw new Error(`FakeDynamoDb does not model ${name} on a generic table`);
      }
    } catch (error) {
      throw error instanceof ExpressionError ? validation(error.message) : error;
    }
  }

  private keyNames(): string[] {
    return [this.keySchema!.partitionKey, ...(this.keySchema!.sortKey ? [this.keySchema!.sortKey] : [])];
  }

  /** The map key of an item or a key: its key attributes, checked. */
  private genericKey(itemOrKey: Item): string {
    if (!this.keySchema) throw new Error('FakeDynamoDb: itemByKey() and putItem() are for a table created with keySchema');
    return this.keyNames().map((n) => {
      const v = itemOrKey[n];
      if (!v || (v.S === undefined && v.N === undefined && v.B === undefined)) throw validation(`One or more parameter values were invalid: Missing the key ${n} in the item`);
      return JSON.stringify(v);
    }).join(KEY_SEPARATOR);
  }

  private checkKey(key: Item | undefined): string {
    const names = Object.keys(key ?? {}).sort();
    if (names.join(',') !== [...this.keyNames()].sort().join(',')) {
      throw validation('The provided key element does not match the schema');
    }
    return this.genericKey(key!);
  }

  /** A function that applies a projection expression (none: the whole item). */
  private projection(
    projection: string | undefined, attributes: ExpressionAttributes, used: Placeholders[],
  ): (item: Item | undefined) => Item | undefined {
    if (projection === undefined) return (item) => item;
    const { names, placeholders } = parseProjection(projection, attributes);
    used.push(placeholders);
    return (item) => item && Object.fromEntries(names.filter((n) => item[n] !== undefined).map((n) => [n, item[n]]));
  }

  private condition(
    expression: string | undefined, attributes: ExpressionAttributes, used: Placeholders[], current: Item | undefined, returnOld: boolean,
  ): void {
    if (expression === undefined) return;
    const parsed = parseCondition(expression, attributes);
    used.push(parsed.placeholders);
    checkAllPlaceholdersUsed(attributes, used);
    if (!parsed.test(current)) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: metadata(400),
        ...(returnOld && current ? { Item: structuredClone(current) } : {}),
      });
    }
  }

  private getItem(input: GetItemCommandInput): object {
    this.requireTable(input.TableName);
    const attributes = { names: input.ExpressionAttributeNames };
    const used: Placeholders[] = [];
    const project = this.projection(input.ProjectionExpression, attributes, used);
    checkAllPlaceholdersUsed(attributes, used);
    const item = project(this.items.get(this.checkKey(input.Key)));
    return item ? { Item: structuredClone(item) } : {};
  }

  private batchGetItem(input: BatchGetItemCommandInput): object {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error(`FakeDynamoDb: BatchGetItem from one table expected, got ${tables}`);
    this.requireTable(tables[0]);
    const request = input.RequestItems![tables[0]];
    const keys = request.Keys ?? [];
    if (keys.length < 1 || keys.length > 100) throw validation(`Too many items requested for the BatchGetItem call (1 to 100 keys), got ${keys.length}`);
    const mapKeys = keys.map((k) => this.checkKey(k));
    if (new Set(mapKeys).size !== mapKeys.length) throw validation('Provided list of item keys contains duplicates');
    const attributes = { names: request.ExpressionAttributeNames };
    const used: Placeholders[] = [];
    const project = this.projection(request.ProjectionExpression, attributes, used);
    checkAllPlaceholdersUsed(attributes, used);
    const { done, left } = this.splitUnprocessed(keys.map((key, i) => ({ key, mapKey: mapKeys[i] })));
    const found = done.map(({ mapKey }) => project(this.items.get(mapKey))).filter((i): i is Item => !!i);
    return {
      Responses: { [tables[0]]: structuredClone(found) },
      UnprocessedKeys: left.length > 0 ? { [tables[0]]: { ...request, Keys: left.map(({ key }) => key) } } : {},
    };
  }

  private batchWriteItemGeneric(input: BatchWriteItemCommandInput): object {
    const tables = Object.keys(input.RequestItems ?? {});
    if (tables.length !== 1) throw new Error(`FakeDynamoDb: BatchWriteItem to one table expected, got ${tables}`);
    this.requireTable(tables[0]);
    const requests = input.RequestItems![tables[0]];
    if (requests.length < 1 || requests.length > 25) throw validation(`BatchWriteItem takes 1 to 25 requests, got ${requests.length}`);
    // DynamoDB checks every request before it writes any, and refuses two on the same key.
    const mapKeys = requests.map((r) => {
      if (r.PutRequest?.Item) return this.genericKey(r.PutRequest.Item);
      if (r.DeleteRequest?.Key) return this.checkKey(r.DeleteRequest.Key);
      throw validation(`A BatchWriteItem request has neither a PutRequest nor a DeleteRequest: ${JSON.stringify(r)}`);
    });
    if (new Set(mapKeys).size !== mapKeys.length) throw validation('Provided list of item keys contains duplicates');
    const { done, left } = this.splitUnprocessed(requests.map((request, i) => ({ request, mapKey: mapKeys[i] })));
    for (const { request, mapKey } of done) {
      if (request.PutRequest) this.items.set(mapKey, structuredClone(request.PutRequest.Item!));
      else this.items.delete(mapKey);
    }
    return { UnprocessedItems: left.length > 0 ? { [tables[0]]: left.map(({ request }) => request) } : {} };
  }

  private putItemCommand(input: PutItemCommandInput): object {
    this.requireTable(input.TableName);
    if (input.ReturnValues !== undefined && !['NONE', 'ALL_OLD'].includes(input.ReturnValues)) throw validation(`ReturnValues ${input.ReturnValues} is not valid for PutItem`);
    const key = this.genericKey(input.Item ?? {});
    const current = this.items.get(key);
    const attributes = { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues };
    const used: Placeholders[] = [];
    this.condition(input.ConditionExpression, attributes, used, current, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    checkAllPlaceholdersUsed(attributes, used);
    this.items.set(key, structuredClone(input.Item!));
    return input.ReturnValues === 'ALL_OLD' && current ? { Attributes: structuredClone(current) } : {};
  }

  private updateItemGeneric(input: UpdateItemCommandInput): object {
    this.requireTable(input.TableName);
    if (input.UpdateExpression === undefined) throw new Error('FakeDynamoDb: UpdateItem without an UpdateExpression is not modelled');
    const key = this.checkKey(input.Key);
    const current = this.items.get(key);
    const attributes = { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues };
    const used: Placeholders[] = [];
    // DynamoDB checks the whole request before the condition: an invalid update fails even when the condition would.
    const base: Item = current ?? structuredClone(input.Key!);
    const { item: updated, updated: names, placeholders } = applyUpdate(input.UpdateExpression, base, attributes, this.keyNames());
    used.push(placeholders);
    this.condition(input.ConditionExpression, attributes, used, current, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    checkAllPlaceholdersUsed(attributes, used);
    this.items.set(key, updated);
    const pick = (item: Item | undefined, only: string[]) => item && Object.fromEntries(Object.entries(item).filter(([n]) => only.includes(n)));
    switch (input.ReturnValues ?? 'NONE') {
      case 'NONE': return {};
      case 'ALL_NEW': return { Attributes: structuredClone(updated) };
      case 'ALL_OLD': return current ? { Attributes: structuredClone(current) } : {};
      case 'UPDATED_NEW': return { Attributes: structuredClone(pick(updated, names)) };
      case 'UPDATED_OLD': return current ? { Attributes: structuredClone(pick(current, names)) } : {};
      default: throw validation(`ReturnValues ${input.ReturnValues} is not valid`);
    }
  }

  private deleteItem(input: DeleteItemCommandInput): object {
    this.requireTable(input.TableName);
    const key = this.checkKey(input.Key);
    const current = this.items.get(key);
    const attributes = { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues };
    const used: Placeholders[] = [];
    this.condition(input.ConditionExpression, attributes, used, current, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
    checkAllPlaceholdersUsed(attributes, used);
    this.items.delete(key);
    return input.ReturnValues === 'ALL_OLD' && current ? { Attributes: structuredClone(current) } : {};
  }
}

/** A ValidationException, as DynamoDB answers a request it rejects. */
function validation(message: string): Error {
  const error = new Error(message);
  error.name = 'ValidationException';
  Object.assign(error, { $fault: 'client', $metadata: metadata(400) });
  return error;
}

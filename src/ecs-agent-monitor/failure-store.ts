import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EnvironmentSubject, networkSubjects, secretSubject } from '../common/environment';
import { grantKeyThroughService } from '../common/hardening';

/**
 * Options for the DynamoDB failure store.
 */
export interface DynamoDbFailureStoreOptions {
  /**
   * An existing table to keep the counts in. It must have the partition key `cluster` (String),
   * the sort key `instance` (String) and, for counts to expire, TTL enabled on `expiresAt`.
   *
   * @default - the monitor creates an on-demand, encrypted table with TTL and point-in-time recovery
   */
  readonly table?: dynamodb.ITable;

  /**
   * What happens to the table the monitor creates when it is removed from the stack.
   * The counts are only useful to a running monitor.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Options for a Redis-compatible failure store (ElastiCache for Redis OSS or Valkey, cluster mode disabled).
 */
export interface RedisFailureStoreOptions {
  /** The VPC the monitor function runs in to reach Redis. It also needs a route to the ECS, Auto Scaling and EC2 APIs (NAT or VPC endpoints). */
  readonly vpc: ec2.IVpc;

  /**
   * Where in the VPC the function runs.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups for the function; they must be allowed to reach Redis on its port.
   *
   * @default - a new security group with all outbound traffic allowed
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The Redis primary endpoint address. Give this or `replicationGroupId`.
   *
   * @default - resolved from `replicationGroupId`
   */
  readonly host?: string;

  /**
   * The Redis port.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * An ElastiCache replication group id; the function looks up its primary endpoint and whether it
   * uses in-transit encryption. Give this or `host`.
   *
   * @default - `host` is used
   */
  readonly replicationGroupId?: string;

  /**
   * Connect with TLS (ElastiCache in-transit encryption).
   *
   * @default - true when the replication group has in-transit encryption; false with `host`
   */
  readonly tls?: boolean;

  /**
   * A secret holding the Redis AUTH token (the whole secret string, or a JSON object with a `password` key).
   *
   * @default - no AUTH
   */
  readonly authToken?: secretsmanager.ISecret;

  /**
   * The Redis ACL user name, with `authToken`.
   *
   * @default - the default user
   */
  readonly username?: string;

  /**
   * Prefix of the Redis keys the monitor writes (per cluster, a hash of counts and a hash of their last increments).
   *
   * @default 'ecs-agent-monitor'
   */
  readonly keyPrefix?: string;
}

/** @internal */
export interface FailureStoreBinding {
  readonly environment: { [key: string]: string };
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly table?: dynamodb.ITable;
  grant(grantee: iam.IGrantable): void;
}

/** The store behind a `FailureStore`: checks its options and binds to the monitor. */
interface StoreKind {
  /** Problems in the form "prop: what is wrong"; `monitorVpc` is the monitor's own `vpc`, if any. */
  validate(monitorVpc?: ec2.IVpc): string[];
  /** What the store was given that must be in the monitor's account and region. */
  environmentSubjects(): EnvironmentSubject[];
  bind(scope: Construct, ttl: Duration, encryptionKey?: kms.IKey): FailureStoreBinding;
}

/**
 * Where the agent monitor keeps each instance's count of consecutive failed checks between runs.
 */
export class FailureStore {
  /** A DynamoDB table (the default): created by the monitor, or an existing one. */
  public static dynamoDb(options: DynamoDbFailureStoreOptions = {}): FailureStore {
    return new FailureStore(new DynamoDbStore(options));
  }

  /** An existing Redis-compatible endpoint; the monitor function then runs in the given VPC. */
  public static redis(options: RedisFailureStoreOptions): FailureStore {
    return new FailureStore(new RedisStore(options));
  }

  private constructor(private readonly kind: StoreKind) {}

  /** Validates the options (with the monitor's `vpc`, if any); returns problems in the form "prop: what is wrong". @internal */
  public _validate(monitorVpc?: ec2.IVpc): string[] {
    return this.kind.validate(monitorVpc);
  }

  /** What the store was given (a table, a VPC, a secret), for the monitor's check of accounts and regions. @internal */
  public _environmentSubjects(): EnvironmentSubject[] {
    return this.kind.environmentSubjects();
  }

  /**
   * Creates what the store needs (encrypted with `encryptionKey` when given) and says how the function reaches it.
   * @internal
   */
  public _bind(scope: Construct, ttl: Duration, encryptionKey?: kms.IKey): FailureStoreBinding {
    return this.kind.bind(scope, ttl, encryptionKey);
  }
}

class DynamoDbStore implements StoreKind {
  constructor(private readonly options: DynamoDbFailureStoreOptions) {}

  public validate(): string[] {
    return [];
  }

  public environmentSubjects(): EnvironmentSubject[] {
    const table = this.options.table;
    return table ? [{ prop: 'failureStore: FailureStore.dynamoDb() table', kind: 'DynamoDB table', resource: table, arn: table.tableArn }] : [];
  }

  public bind(scope: Construct, ttl: Duration, encryptionKey?: kms.IKey): FailureStoreBinding {
    const table = this.options.table ?? new dynamodb.Table(scope, 'FailureTable', {
      partitionKey: { name: 'cluster', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'instance', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: this.options.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    return {
      table,
      environment: {
        FAILURE_STORE: 'dynamodb',
        FAILURE_TABLE_NAME: table.tableName,
        FAILURE_TTL_SECONDS: String(ttl.toSeconds()),
      },
      grant: (grantee) => {
        // Exactly the three calls the store makes: load (Query), increment (UpdateItem), clear (BatchWriteItem).
        table.grant(grantee, 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem');
        // A table under a customer managed key (the monitor's encryptionKey, or the key of a table passed in):
        // DynamoDB uses the key on the caller's behalf to read and write items, and only DynamoDB may.
        if (table.encryptionKey) grantKeyThroughService(grantee, table.encryptionKey, 'dynamodb', scope);
      },
    };
  }
}

class RedisStore implements StoreKind {
  constructor(private readonly options: RedisFailureStoreOptions) {}

  public validate(monitorVpc?: ec2.IVpc): string[] {
    const { host, port, replicationGroupId, keyPrefix, username, authToken } = this.options;
    const problems: string[] = [];
    if ((host === undefined) === (replicationGroupId === undefined)) {
      problems.push(`failureStore: FailureStore.redis() needs exactly one of host or replicationGroupId (got ${host === undefined ? 'neither' : 'both'})`);
    }
    if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      problems.push(`failureStore: FailureStore.redis() port is ${port}; give a whole number from 1 to 65535`);
    }
    if (replicationGroupId !== undefined && !Token.isUnresolved(replicationGroupId) && !/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/.test(replicationGroupId)) {
      problems.push(`failureStore: FailureStore.redis() replicationGroupId is ${JSON.stringify(replicationGroupId)}; give an ElastiCache replication group id (a letter, then up to 39 letters, digits or hyphens)`);
    }
    if (keyPrefix !== undefined && !Token.isUnresolved(keyPrefix) && !/^[\w.:-]{1,64}$/.test(keyPrefix)) {
      problems.push(`failureStore: FailureStore.redis() keyPrefix is ${JSON.stringify(keyPrefix)}; use 1 to 64 letters, digits, _ . : or -`);
    }
    if (monitorVpc && monitorVpc !== this.options.vpc) {
      problems.push(`failureStore: FailureStore.redis() vpc is ${this.options.vpc.node.path}, but the monitor's vpc is ${monitorVpc.node.path}; `
        + 'the function runs in one VPC: give the same VPC to both, or leave the monitor\'s vpc out');
    }
    if (username !== undefined && authToken === undefined) {
      problems.push('failureStore: FailureStore.redis() username is set without authToken; give the secret holding that user\'s password');
    }
    return problems;
  }

  public environmentSubjects(): EnvironmentSubject[] {
    const o = this.options;
    return [
      ...networkSubjects('failureStore: FailureStore.redis() ', o.vpc, o.vpcSubnets, o.securityGroups),
      ...(o.authToken ? [secretSubject('failureStore: FailureStore.redis() authToken', o.authToken)] : []),
    ];
  }

  public bind(scope: Construct, ttl: Duration): FailureStoreBinding {
    // (encryptionKey has nothing to encrypt here: the Redis endpoint is the user's, with its own encryption.)
    const o = this.options;
    const environment: { [key: string]: string } = {
      FAILURE_STORE: 'redis',
      FAILURE_TTL_SECONDS: String(ttl.toSeconds()),
    };
    if (o.host !== undefined) environment.REDIS_HOST = o.host;
    if (o.port !== undefined) environment.REDIS_PORT = Token.asString(o.port);
    if (o.replicationGroupId !== undefined) environment.REDIS_REPLICATION_GROUP_ID = o.replicationGroupId;
    if (o.tls !== undefined) environment.REDIS_TLS = String(o.tls);
    if (o.authToken) environment.REDIS_AUTH_SECRET_ARN = o.authToken.secretArn;
    if (o.username !== undefined) environment.REDIS_USERNAME = o.username;
    if (o.keyPrefix !== undefined) environment.REDIS_KEY_PREFIX = o.keyPrefix;

    const replicationGroupArn = o.replicationGroupId === undefined ? undefined : Stack.of(scope).formatArn({
      service: 'elasticache', resource: 'replicationgroup', resourceName: o.replicationGroupId, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return {
      environment,
      vpc: o.vpc,
      vpcSubnets: o.vpcSubnets,
      securityGroups: o.securityGroups,
      grant: (grantee) => {
        o.authToken?.grantRead(grantee);
        if (replicationGroupArn) {
          iam.Grant.addToPrincipal({ grantee, actions: ['elasticache:DescribeReplicationGroups'], resourceArns: [replicationGroupArn] });
        }
      },
    };
  }
}


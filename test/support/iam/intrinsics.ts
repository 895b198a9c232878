/**
 * Resolve CloudFormation intrinsics in a synthesized template to plain values,
 * giving every resource a realistic name and ARN, so IAM policies can be
 * evaluated as they would be after deployment.
 *
 * Anything it cannot resolve throws an {@link UnresolvableIntrinsicError} that
 * names the intrinsic and where it was found; nothing is dropped silently.
 *
 * @module
 */
import { createHash } from 'crypto';

/** A synthesized CloudFormation template, as `Template.fromStack(stack).toJSON()` returns it. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResourceJson>;
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

/** One resource of a {@link CfnTemplate}. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Where the template is deployed, and the values the template takes from outside. */
export interface DeploymentEnvironment {
  /**
   * Account id for `AWS::AccountId` and resource ARNs.
   * @default '123456789012'
   */
  readonly account?: string;
  /**
   * Region for `AWS::Region` and resource ARNs.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * Partition for `AWS::Partition` and resource ARNs.
   * @default 'aws'
   */
  readonly partition?: string;
  /**
   * Value of `AWS::URLSuffix`.
   * @default 'amazonaws.com'
   */
  readonly urlSuffix?: string;
  /**
   * Value of `AWS::StackName`.
   * @default 'TestStack'
   */
  readonly stackName?: string;
  /**
   * Values of template parameters, by name.
   * @default - each parameter's `Default`; a parameter without one cannot be resolved
   */
  readonly parameters?: Record<string, string | string[]>;
  /**
   * Values of `Fn::ImportValue`, by export name.
   * @default - no imports can be resolved
   */
  readonly importedValues?: Record<string, string | string[]>;
  /**
   * Values of `Ref` (key `Ref`) and `Fn::GetAtt` (key: the attribute) for
   * resources, by logical id. They take precedence over the built-in models, and
   * are how a custom resource or an unmodelled type gets its values.
   * @default - the built-in models only
   */
  readonly resourceValues?: Record<string, Record<string, string | string[]>>;
}

/** Raised for an intrinsic, reference or value the resolver does not know how to resolve. */
export class UnresolvableIntrinsicError extends Error {
  constructor(message: string, public readonly location: string) {
    super(`${message} (at ${location})`);
    this.name = 'UnresolvableIntrinsicError';
  }
}

/** A resolved value: what a CloudFormation expression evaluates to. */
export type ResolvedValue = string | number | boolean | null | ResolvedValue[] | { [key: string]: ResolvedValue };

const NO_VALUE = Symbol('AWS::NoValue');
type Intermediate = ResolvedValue | typeof NO_VALUE;

interface ModelContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly urlSuffix: string;
  readonly logicalId: string;
  /** Physical name: the name property when the template sets one, else the logical id. */
  readonly name: string;
  /** Resolve a property of this resource. */
  prop(name: string): ResolvedValue | undefined;
}

interface ResourceModel {
  /** Properties that hold the physical name, in order of preference. */
  readonly nameProps?: readonly string[];
  /** Turn the logical id into a valid default name (e.g. lowercase for S3). */
  readonly defaultName?: (logicalId: string) => string;
  readonly ref: (c: ModelContext) => string;
  readonly attrs: Record<string, (c: ModelContext) => string>;
}

const arn = (c: ModelContext, service: string, resource: string, region = c.region, account = c.account) =>
  `arn:${c.partition}:${service}:${region}:${account}:${resource}`;

/** Deterministic hex for ids the service would generate (key ids, role ids, secret suffixes). */
const fakeHex = (seed: string, length: number) => createHash('sha256').update(seed).digest('hex').slice(0, length);

const lastSegment = (value: ResolvedValue | undefined, fallback: string) =>
  typeof value === 'string' ? value.split(/[/:]/).pop() ?? fallback : fallback;

/**
 * How `Ref` and `Fn::GetAtt` resolve for each resource type. Names follow the
 * service's ARN format (see the Service Authorization Reference).
 */
const MODELS: Record<string, ResourceModel> = {
  'AWS::IAM::Role': {
    nameProps: ['RoleName'],
    ref: (c) => c.name,
    attrs: {
      Arn: (c) => `arn:${c.partition}:iam::${c.account}:role${rolePath(c)}${c.name}`,
      RoleId: (c) => `AROA${fakeHex(c.logicalId, 17).toUpperCase()}`,
    },
  },
  'AWS::IAM::User': {
    nameProps: ['UserName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => `arn:${c.partition}:iam::${c.account}:user${rolePath(c)}${c.name}` },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProps: ['ManagedPolicyName'],
    ref: (c) => `arn:${c.partition}:iam::${c.account}:policy${rolePath(c)}${c.name}`,
    attrs: { PolicyArn: (c) => `arn:${c.partition}:iam::${c.account}:policy${rolePath(c)}${c.name}` },
  },
  'AWS::IAM::InstanceProfile': {
    nameProps: ['InstanceProfileName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => `arn:${c.partition}:iam::${c.account}:instance-profile${rolePath(c)}${c.name}` },
  },
  'AWS::DynamoDB::Table': {
    nameProps: ['TableName'],
    ref: (c) => c.name,
    attrs: {
      Arn: (c) => arn(c, 'dynamodb', `table/${c.name}`),
      StreamArn: (c) => arn(c, 'dynamodb', `table/${c.name}/stream/2024-01-01T00:00:00.000`),
    },
  },
  'AWS::SecretsManager::Secret': {
    nameProps: ['Name'],
    ref: (c) => secretArn(c),
    attrs: { Id: (c) => secretArn(c) },
  },
  'AWS::SNS::Topic': {
    nameProps: ['TopicName'],
    ref: (c) => arn(c, 'sns', c.name),
    attrs: { TopicArn: (c) => arn(c, 'sns', c.name), TopicName: (c) => c.name },
  },
  'AWS::SQS::Queue': {
    nameProps: ['QueueName'],
    ref: (c) => queueUrl(c),
    attrs: { Arn: (c) => arn(c, 'sqs', c.name), QueueName: (c) => c.name, QueueUrl: (c) => queueUrl(c) },
  },
  'AWS::Logs::LogGroup': {
    nameProps: ['LogGroupName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'logs', `log-group:${c.name}:*`) },
  },
  'AWS::Lambda::Function': {
    nameProps: ['FunctionName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'lambda', `function:${c.name}`) },
  },
  'AWS::S3::Bucket': {
    nameProps: ['BucketName'],
    defaultName: (id) => id.toLowerCase(),
    ref: (c) => c.name,
    attrs: {
      Arn: (c) => `arn:${c.partition}:s3:::${c.name}`,
      DomainName: (c) => `${c.name}.s3.${c.urlSuffix}`,
      RegionalDomainName: (c) => `${c.name}.s3.${c.region}.${c.urlSuffix}`,
    },
  },
  'AWS::ECS::Cluster': {
    nameProps: ['ClusterName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'ecs', `cluster/${c.name}`) },
  },
  'AWS::ECS::Service': {
    nameProps: ['ServiceName'],
    ref: (c) => ecsServiceArn(c),
    attrs: { ServiceArn: (c) => ecsServiceArn(c), Name: (c) => c.name },
  },
  'AWS::ECS::TaskDefinition': {
    nameProps: ['Family'],
    ref: (c) => arn(c, 'ecs', `task-definition/${c.name}:1`),
    attrs: { TaskDefinitionArn: (c) => arn(c, 'ecs', `task-definition/${c.name}:1`) },
  },
  'AWS::ECS::CapacityProvider': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::AutoScaling::AutoScalingGroup': {
    nameProps: ['AutoScalingGroupName'],
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::Events::Rule': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'events', `rule/${c.name}`) },
  },
  'AWS::Events::EventBus': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'events', `event-bus/${c.name}`), Name: (c) => c.name },
  },
  'AWS::StepFunctions::StateMachine': {
    nameProps: ['StateMachineName'],
    ref: (c) => arn(c, 'states', `stateMachine:${c.name}`),
    attrs: { Arn: (c) => arn(c, 'states', `stateMachine:${c.name}`), Name: (c) => c.name },
  },
  'AWS::KMS::Key': {
    ref: (c) => kmsKeyId(c),
    attrs: { Arn: (c) => arn(c, 'kms', `key/${kmsKeyId(c)}`), KeyId: (c) => kmsKeyId(c) },
  },
  'AWS::KMS::Alias': {
    nameProps: ['AliasName'],
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::SSM::Parameter': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::ECR::Repository': {
    nameProps: ['RepositoryName'],
    defaultName: (id) => id.toLowerCase(),
    ref: (c) => c.name,
    attrs: {
      Arn: (c) => arn(c, 'ecr', `repository/${c.name}`),
      RepositoryUri: (c) => `${c.account}.dkr.ecr.${c.region}.${c.urlSuffix}/${c.name}`,
    },
  },
  'AWS::Kinesis::Stream': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'kinesis', `stream/${c.name}`) },
  },
  'AWS::CloudWatch::Alarm': {
    nameProps: ['AlarmName'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'cloudwatch', `alarm:${c.name}`) },
  },
  'AWS::ApiGateway::RestApi': {
    // The API id is generated: ten lower-case letters and digits.
    ref: (c) => fakeHex(c.logicalId, 10),
    attrs: { RestApiId: (c) => fakeHex(c.logicalId, 10), RootResourceId: (c) => fakeHex(`${c.logicalId}/`, 10) },
  },
  'AWS::Scheduler::Schedule': {
    nameProps: ['Name'],
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn(c, 'scheduler', `schedule/${lastSegment(c.prop('GroupName'), 'default')}/${c.name}`) },
  },
};

function rolePath(c: ModelContext): string {
  const path = c.prop('Path');
  return typeof path === 'string' ? path : '/';
}

function secretArn(c: ModelContext): string {
  return arn(c, 'secretsmanager', `secret:${c.name}-${fakeHex(c.logicalId, 6)}`);
}

function queueUrl(c: ModelContext): string {
  return `https://sqs.${c.region}.${c.urlSuffix}/${c.account}/${c.name}`;
}

function ecsServiceArn(c: ModelContext): string {
  const cluster = lastSegment(c.prop('Cluster'), 'default');
  return arn(c, 'ecs', `service/${cluster}/${c.name}`);
}

function kmsKeyId(c: ModelContext): string {
  return fakeUuid(c.logicalId);
}

/** Resource types with a built-in `Ref`/`Fn::GetAtt` model. */
export const MODELLED_RESOURCE_TYPES: readonly string[] = Object.keys(MODELS).sort();

/**
 * Resolves CloudFormation intrinsics in values taken from one template.
 *
 * Supports `Ref` (pseudo parameters, parameters, resources), `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::ImportValue`,
 * `Fn::FindInMap`, `Fn::GetAZs` and `AWS::NoValue`. `Fn::If` and the other
 * condition functions are not supported and throw.
 *
 * @example new IntrinsicResolver(template).resolve({ 'Fn::GetAtt': ['Table', 'Arn'] }, 'Table ARN')
 *   // 'arn:aws:dynamodb:us-east-1:123456789012:table/Table'
 */
export class IntrinsicResolver {
  public readonly account: string;
  public readonly region: string;
  public readonly partition: string;
  public readonly urlSuffix: string;
  public readonly stackName: string;
  private readonly resources: Record<string, CfnResourceJson>;
  private readonly resolving = new Set<string>();

  constructor(public readonly template: CfnTemplate, private readonly env: DeploymentEnvironment = {}) {
    this.account = env.account ?? '123456789012';
    this.region = env.region ?? 'us-east-1';
    this.partition = env.partition ?? 'aws';
    this.urlSuffix = env.urlSuffix ?? 'amazonaws.com';
    this.stackName = env.stackName ?? 'TestStack';
    this.resources = template.Resources ?? {};
  }

  /**
   * Resolve `value` completely. `location` names where it came from, for error messages.
   * @throws UnresolvableIntrinsicError naming the intrinsic that cannot be resolved
   */
  public resolve(value: unknown, location: string): ResolvedValue {
    const resolved = this.visit(value, location);
    if (resolved === NO_VALUE) {
      throw new UnresolvableIntrinsicError('Ref AWS::NoValue used as a whole value', location);
    }
    return resolved;
  }

  /** Resolve `value`, which must come out as a string. */
  public resolveString(value: unknown, location: string): string {
    const resolved = this.resolve(value, location);
    if (typeof resolved !== 'string') {
      throw new UnresolvableIntrinsicError(`expected a string, got ${JSON.stringify(resolved)}`, location);
    }
    return resolved;
  }

  /** The value of `{ Ref: logicalId }` for a resource or parameter of the template. */
  public ref(logicalId: string, location: string = `Ref ${logicalId}`): ResolvedValue {
    return this.refValue(logicalId, location);
  }

  /** The value of `{ 'Fn::GetAtt': [logicalId, attribute] }`. */
  public getAtt(logicalId: string, attribute: string, location: string = `Fn::GetAtt ${logicalId}.${attribute}`): ResolvedValue {
    return this.getAttValue(logicalId, attribute, location);
  }

  private visit(value: unknown, location: string): Intermediate {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return value;
    }
    if (Array.isArray(value)) {
      return value.map((item, i) => this.visit(item, `${location}[${i}]`)).filter(isPresent);
    }
    if (typeof value !== 'object') {
      throw new UnresolvableIntrinsicError(`unexpected ${typeof value} value`, location);
    }
    const keys = Object.keys(value);
    const obj = value as Record<string, unknown>;
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(keys[0], obj[keys[0]], `${location}.${keys[0]}`);
    }
    const out: { [key: string]: ResolvedValue } = {};
    for (const key of keys) {
      const v = this.visit(obj[key], `${location}.${key}`);
      if (v !== NO_VALUE) out[key] = v;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown, location: string): Intermediate {
    switch (fn) {
      case 'Ref': {
        if (typeof arg !== 'string') throw new UnresolvableIntrinsicError(`Ref takes a logical id, got ${JSON.stringify(arg)}`, location);
        if (arg === 'AWS::NoValue') return NO_VALUE;
        return this.refValue(arg, location);
      }
      case 'Fn::GetAtt': {
        const [id, attr] = typeof arg === 'string' ? splitOnce(arg, '.') : (arg as unknown[] ?? []);
        const attribute = this.visit(attr, `${location}[1]`);
        if (typeof id !== 'string' || typeof attribute !== 'string') {
          throw new UnresolvableIntrinsicError(`Fn::GetAtt takes [logicalId, attribute], got ${JSON.stringify(arg)}`, location);
        }
        return this.getAttValue(id, attribute, location);
      }
      case 'Fn::Join': {
        const [delimiter, list] = expectArgs(arg, 2, fn, location);
        if (typeof delimiter !== 'string') throw new UnresolvableIntrinsicError(`Fn::Join delimiter must be a string, got ${JSON.stringify(delimiter)}`, location);
        const items = this.visit(list, `${location}[1]`);
        if (!Array.isArray(items)) throw new UnresolvableIntrinsicError(`Fn::Join takes a list, got ${JSON.stringify(items)}`, location);
        return items.map((item, i) => {
          if (typeof item !== 'string' && typeof item !== 'number') {
            throw new UnresolvableIntrinsicError(`Fn::Join element ${i} resolved to ${JSON.stringify(item)}, not a string`, location);
          }
          return String(item);
        }).join(delimiter);
      }
      case 'Fn::Sub': {
        const [text, vars] = typeof arg === 'string' ? [arg, {}] : expectArgs(arg, 2, fn, location);
        if (typeof text !== 'string' || vars === null || typeof vars !== 'object') {
          throw new UnresolvableIntrinsicError(`Fn::Sub takes a string or [string, variables], got ${JSON.stringify(arg)}`, location);
        }
        return this.sub(text, vars as Record<string, unknown>, location);
      }
      case 'Fn::Select': {
        const [index, list] = expectArgs(arg, 2, fn, location);
        const idx = this.visit(index, `${location}[0]`);
        const i = typeof idx === 'number' || typeof idx === 'string' ? Number(idx) : NaN;
        const items = this.visit(list, `${location}[1]`);
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new UnresolvableIntrinsicError(`Fn::Select index ${JSON.stringify(index)} is out of range for ${JSON.stringify(items)}`, location);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = expectArgs(arg, 2, fn, location);
        const text = this.visit(source, `${location}[1]`);
        if (typeof delimiter !== 'string' || typeof text !== 'string') {
          throw new UnresolvableIntrinsicError(`Fn::Split takes [delimiter, string], got ${JSON.stringify([delimiter, text])}`, location);
        }
        return text.split(delimiter);
      }
      case 'Fn::ImportValue': {
        const name = this.visit(arg, location);
        const imports = this.env.importedValues ?? {};
        if (typeof name !== 'string' || !(name in imports)) {
          throw new UnresolvableIntrinsicError(`Fn::ImportValue ${JSON.stringify(name)} has no value; pass it in importedValues`, location);
        }
        return imports[name];
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = expectArgs(arg, 3, fn, location).map((a, i) => this.visit(a, `${location}[${i}]`));
        if (typeof map !== 'string' || typeof top !== 'string' || typeof second !== 'string') {
          throw new UnresolvableIntrinsicError(`Fn::FindInMap keys must resolve to strings, got ${JSON.stringify(arg)}`, location);
        }
        const found = this.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) {
          throw new UnresolvableIntrinsicError(`Fn::FindInMap ${JSON.stringify([map, top, second])} is not in the template's Mappings`, location);
        }
        return this.visit(found, `Mappings.${map}.${top}.${second}`);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      default:
        throw new UnresolvableIntrinsicError(`${fn} is not supported by the IAM test helper`, location);
    }
  }

  private sub(text: string, vars: Record<string, unknown>, location: string): string {
    return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      let value: Intermediate;
      if (name in vars) {
        value = this.visit(vars[name], `${location}[1].${name}`);
      } else if (name.includes('.') && !name.startsWith('AWS::')) {
        const [id, attr] = splitOnce(name, '.');
        value = this.getAttValue(id, attr, `${location} ${whole}`);
      } else {
        value = this.refValue(name, `${location} ${whole}`);
      }
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new UnresolvableIntrinsicError(`Fn::Sub variable ${whole} resolved to ${JSON.stringify(value)}, not a string`, location);
      }
      return String(value);
    });
  }

  private refValue(name: string, location: string): ResolvedValue {
    switch (name) {
      case 'AWS::Partition': return this.partition;
      case 'AWS::Region': return this.region;
      case 'AWS::AccountId': return this.account;
      case 'AWS::URLSuffix': return this.urlSuffix;
      case 'AWS::StackName': return this.stackName;
      case 'AWS::StackId': return `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${this.stackName}/${fakeUuid(this.stackName)}`;
      case 'AWS::NoValue': throw new UnresolvableIntrinsicError('Ref AWS::NoValue used where a value is required', location);
      default: break;
    }
    if (name.startsWith('AWS::')) {
      throw new UnresolvableIntrinsicError(`Ref ${name}: unsupported pseudo parameter`, location);
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      const given = this.env.parameters?.[name];
      if (given !== undefined) return given;
      if (parameter.Default !== undefined) return this.resolve(parameter.Default, `Parameters.${name}.Default`);
      throw new UnresolvableIntrinsicError(`Ref ${name}: parameter has no Default; pass its value in parameters`, location);
    }
    const override = this.env.resourceValues?.[name]?.Ref;
    if (override !== undefined) return override;
    const c = this.context(name, location, 'Ref');
    return c.model.ref(c.ctx);
  }

  private getAttValue(logicalId: string, attribute: string, location: string): ResolvedValue {
    const override = this.env.resourceValues?.[logicalId]?.[attribute];
    if (override !== undefined) return override;
    const { model, ctx, type } = this.context(logicalId, location, `Fn::GetAtt ${logicalId}.${attribute}`);
    const attr = model.attrs[attribute];
    if (!attr) {
      throw new UnresolvableIntrinsicError(`Fn::GetAtt ${logicalId}.${attribute}: attribute ${attribute} of ${type} is not modelled `
        + `(modelled: ${Object.keys(model.attrs).join(', ') || 'none'}); pass it in resourceValues.${logicalId}.${attribute}`, location);
    }
    return attr(ctx);
  }

  private context(logicalId: string, location: string, what: string): { model: ResourceModel; ctx: ModelContext; type: string } {
    const resource = this.resources[logicalId];
    if (!resource) {
      throw new UnresolvableIntrinsicError(`${what}: ${logicalId} is neither a resource nor a parameter of the template`, location);
    }
    const model = MODELS[resource.Type];
    if (!model) {
      throw new UnresolvableIntrinsicError(`${what}: resource type ${resource.Type} of ${logicalId} is not modelled; `
        + `pass its values in resourceValues.${logicalId}`, location);
    }
    if (this.resolving.has(logicalId)) {
      throw new UnresolvableIntrinsicError(`${what}: ${logicalId} refers to itself`, location);
    }
    const props = resource.Properties ?? {};
    const prop = (p: string) => {
      if (props[p] === undefined) return undefined;
      this.resolving.add(logicalId);
      try {
        return this.resolve(props[p], `Resources.${logicalId}.Properties.${p}`);
      } finally {
        this.resolving.delete(logicalId);
      }
    };
    let name: string | undefined;
    for (const p of model.nameProps ?? []) {
      const v = prop(p);
      if (typeof v === 'string') {
        name = v;
        break;
      }
    }
    name ??= model.defaultName ? model.defaultName(logicalId) : logicalId;
    const ctx: ModelContext = {
      partition: this.partition,
      region: this.region,
      account: this.account,
      urlSuffix: this.urlSuffix,
      logicalId,
      name,
      prop,
    };
    return { model, ctx, type: resource.Type };
  }
}

function isPresent(v: Intermediate): v is ResolvedValue {
  return v !== NO_VALUE;
}

function splitOnce(text: string, separator: string): [string, string] {
  const i = text.indexOf(separator);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

function expectArgs(arg: unknown, count: number, fn: string, location: string): unknown[] {
  if (!Array.isArray(arg) || arg.length !== count) {
    throw new UnresolvableIntrinsicError(`${fn} takes ${count} arguments, got ${JSON.stringify(arg)}`, location);
  }
  return arg;
}

function fakeUuid(seed: string): string {
  const h = fakeHex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

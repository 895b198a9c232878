import { Annotations, Duration, Fn, Names, Resource, Size, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { StatusApiAuthorization, StatusApiAuthorizationType } from './authorization';
import { arnSubject, environmentProblems, hardeningSubjects, subjectsOf } from '../common/environment';
import { HandlerBundle, createHandlerFunction } from '../common/handler-function';
import { createLogGroup, logsKeyPolicyStatement, validateHardening } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from '../common/nag';
import { METRICS_NAMESPACE } from '../common/names';
import { literalDurationProblems, throwIfInvalid } from '../common/validation';

export * from './authorization';

/**
 * The tag keys the `environment`, `owner` and `contact` query parameters read.
 */
export interface StatusApiTagKeys {
  /**
   * The tag key `environment=<value>` reads.
   *
   * @default - a tag named "environment" in any letter case (Environment, ENVIRONMENT, ...)
   */
  readonly environment?: string;

  /**
   * The tag key `owner=<value>` reads.
   *
   * @default - a tag named "owner" in any letter case
   */
  readonly owner?: string;

  /**
   * The tag key `contact=<value>` reads.
   *
   * @default - a tag named "contact" in any letter case
   */
  readonly contact?: string;
}

/**
 * Properties of an `EcsStatusApi`.
 */
export interface EcsStatusApiProps extends HardeningProps {
  /**
   * The clusters whose services the API reports, in this stack's account and region (synth refuses others). Giving them also scopes the
   * function's read permissions to them.
   *
   * @default - every cluster in the account and region (ListClusters on each read), with account-wide read permissions
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * Who may call the API.
   *
   * @default StatusApiAuthorization.iam()
   */
  readonly authorization?: StatusApiAuthorization;

  /**
   * How long the function keeps what it read from ECS; requests within it make no ECS call. `Duration.seconds(0)`
   * reads ECS on every request. At most 15 minutes.
   *
   * @default Duration.seconds(30)
   */
  readonly cacheTtl?: Duration;

  /**
   * Services also match the tags of their cluster (a service's own tag wins over its cluster's of the same key).
   * Adds one DescribeClusters call per 100 clusters to each read, and `ecs:DescribeClusters` to the role.
   *
   * @default false
   */
  readonly inheritClusterTags?: boolean;

  /**
   * The tag keys the `environment`, `owner` and `contact` query parameters read, when your organisation names them
   * differently (e.g. `{ environment: 'stage', owner: 'team' }`).
   *
   * @default - tags named environment, owner and contact, in any letter case
   */
  readonly tagKeys?: StatusApiTagKeys;

  /**
   * The stage's request rate limit (requests per second, steady) and burst, for every caller together. With
   * `StatusApiAuthorization.apiKey()` the usage plan has the same limits.
   *
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly throttle?: apigateway.ThrottleSettings;

  /**
   * How often the status page reads the services again (it can be paused on the page). From 10 seconds to an hour.
   *
   * @default Duration.minutes(1)
   */
  readonly refreshInterval?: Duration;

  /**
   * The status page's title and heading.
   *
   * @default 'ECS services'
   */
  readonly title?: string;

  /**
   * The ARN of an AWS WAF (v2, regional) web ACL of this stack's account and region to associate with the API's stage.
   *
   * @default - no web ACL; the stage throttle and the authorization protect the API
   */
  readonly webAclArn?: string;

  /**
   * Create the CloudWatch Logs role of API Gateway's account settings (`AWS::ApiGateway::Account`). API Gateway writes
   * access and execution logs through that one role per account and region; a stage with logging fails to deploy
   * where it is not set. Most landing zones set it already: leave this off unless your account has none.
   *
   * @default false
   */
  readonly cloudWatchRole?: boolean;
}

const DEFAULTS = {
  cacheTtl: Duration.seconds(30),
  refreshInterval: Duration.minutes(1),
  throttle: { rateLimit: 10, burstLimit: 20 },
  title: 'ECS services',
};

/** The handler bundle, which is also the `service` dimension of its metrics. */
const SERVICE_NAME = 'ecs-status-api' satisfies HandlerBundle;
/** The stage: its name is the first part of every path of the API's own URL. */
const STAGE_NAME = 'v1';
/** Query parameters of `/services` that API Gateway's request validator knows (any `tag:<key>` may come too). */
const SERVICES_PARAMETERS = ['environment', 'owner', 'contact', 'cluster', 'name', 'launchType', 'health', 'status', 'format', 'limit', 'nextToken'];

/**
 * An HTTP API and a status page for every ECS service: what runs where, and whether it is healthy.
 *
 * A REST API (API Gateway, regional) with access and execution logs, a stage throttle, request validation and the
 * authorization you choose, in front of one function that reads the services of `clusters` from ECS (ListServices,
 * DescribeServices in batches of 10 with their tags) and keeps them for `cacheTtl`:
 *
 * - `GET /services` (and `GET /list`): JSON, paged with `limit` and `nextToken`, or CSV with `format=csv`; filters
 *   `tag:<key>=<value>`, `environment`, `owner`, `contact`, `cluster`, `name`, `launchType`, `health`, `status`;
 * - `GET /`: the status page in a browser, a JSON help document otherwise.
 *
 * @example
 * declare const cluster: ecs.ICluster;
 * const status = new EcsStatusApi(this, 'Status', {
 *   clusters: [cluster],
 *   authorization: StatusApiAuthorization.ipAllowList(['203.0.113.0/24']),
 * });
 * new CfnOutput(this, 'StatusPage', { value: status.url });
 */
export class EcsStatusApi extends Construct {
  /** The API's URL (ends with `/`): open it in a browser for the status page, or add `services` for the JSON. */
  public readonly url: string;
  /** The REST API. */
  public readonly api: apigateway.RestApi;
  /** The function that answers every request. */
  public readonly handler: lambda.IFunction;
  /** The log group of the API's access logs (one JSON line per request). */
  public readonly accessLogGroup: logs.ILogGroup;
  /** The log group of the stage's execution logs (errors only). */
  public readonly executionLogGroup: logs.ILogGroup;
  /** The API key, with `StatusApiAuthorization.apiKey()`. */
  public readonly apiKey?: apigateway.IApiKey;
  /** The usage plan the API key is in, with `StatusApiAuthorization.apiKey()`: add more keys to it. */
  public readonly usagePlan?: apigateway.UsagePlan;
  /** Who may call the API. */
  public readonly authorization: StatusApiAuthorization;

  private readonly fn: lambda.Function;

  constructor(scope: Construct, id: string, props: EcsStatusApiProps = {}) {
    super(scope, id);
    validate(this, props);

    const authorization = props.authorization ?? StatusApiAuthorization.iam();
    const mode = authorization.authorizationType;
    const throttle = props.throttle ?? DEFAULTS.throttle;
    this.authorization = authorization;

    const fn = createHandlerFunction(this, 'Function', {
      bundle: SERVICE_NAME,
      description: `cdk-ecs-ops EcsStatusApi: answers the ECS status API and page (${mode})`,
      // DescribeServices answers carry up to 100 events per service; parsing 2,000 services' worth wants the CPU.
      memorySize: 512,
      // API Gateway waits 29 s for an integration; the handler answers before that with what it read.
      timeout: Duration.seconds(29),
      hardening: props,
      environment: {
        CLUSTERS: (props.clusters ?? []).map((c) => c.clusterName).join(','),
        CACHE_TTL_SECONDS: String((props.cacheTtl ?? DEFAULTS.cacheTtl).toSeconds()),
        INHERIT_CLUSTER_TAGS: String(props.inheritClusterTags ?? false),
        AUTHORIZATION: mode,
        PAGE_TITLE: props.title ?? DEFAULTS.title,
        REFRESH_SECONDS: String((props.refreshInterval ?? DEFAULTS.refreshInterval).toSeconds()),
        ...(props.tagKeys?.environment ? { TAG_KEY_ENVIRONMENT: props.tagKeys.environment } : {}),
        ...(props.tagKeys?.owner ? { TAG_KEY_OWNER: props.tagKeys.owner } : {}),
        ...(props.tagKeys?.contact ? { TAG_KEY_CONTACT: props.tagKeys.contact } : {}),
      },
    });
    this.fn = fn;
    this.handler = fn;
    this.grantEcsRead(fn, props);
    acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ',
      'API Gateway invokes the function synchronously and returns its answer (or error) to the caller; a dead-letter queue only receives failed asynchronous invocations.');

    this.accessLogGroup = createLogGroup(this, 'AccessLogs', props);
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      description: 'cdk-ecs-ops EcsStatusApi: ECS services, their health and tags',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // The list of a large fleet is JSON of a few hundred KB: compress it for clients that accept gzip.
      minCompressionSize: Size.kibibytes(1),
      cloudWatchRole: props.cloudWatchRole ?? false,
      policy: mode === StatusApiAuthorizationType.IP_ALLOW_LIST ? ipAllowListPolicy(authorization.allowedCidrs) : undefined,
      deployOptions: {
        stageName: STAGE_NAME,
        description: 'The status API',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: props.tracing === lambda.Tracing.ACTIVE,
        throttlingRateLimit: throttle.rateLimit ?? DEFAULTS.throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit ?? DEFAULTS.throttle.burstLimit,
      },
    });
    this.url = this.api.url;
    // A changed resource policy takes effect only with a new deployment, which CDK makes when the deployment's
    // logical id changes: the allow list is part of it.
    this.api.latestDeployment?.addToLogicalId({ authorization: mode, allowedCidrs: authorization.allowedCidrs });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeNagFinding(cloudWatchRole, 'AwsSolutions-IAM4',
        'The role of API Gateway\'s account settings (cloudWatchRole) is the one AWS documents: the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs, which API Gateway needs to write logs.',
        ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']);
    }
    this.executionLogGroup = this.createExecutionLogGroup(props);

    const integration = new apigateway.AwsIntegration({
      proxy: true,
      service: 'lambda',
      path: `2015-03-31/functions/${fn.functionArn}/invocations`,
      integrationHttpMethod: 'POST',
    });
    // One permission for the stage's GET methods, with the account: a service principal without SourceAccount is
    // what Control Tower's CT.LAMBDA.PR.2 rejects.
    fn.addPermission('InvokeFromApi', {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn: this.api.arnForExecuteApi('GET', '/*', STAGE_NAME),
      sourceAccount: Stack.of(this).account,
    });

    // The GET methods take no body (no model is declared, so a body is passed on unread); the declared query
    // parameters are all optional, and the handler checks every parameter it gets (400 names each bad one).
    const validator = this.api.addRequestValidator('QueryValidator', { validateRequestParameters: true, validateRequestBody: true });
    const optional = (names: string[]) => Object.fromEntries(names.map((n) => [`method.request.querystring.${n}`, false]));
    const authorizationType = mode === StatusApiAuthorizationType.IAM ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE;
    const dataOptions = {
      authorizationType,
      requestValidator: validator,
      requestParameters: optional(SERVICES_PARAMETERS),
      apiKeyRequired: mode === StatusApiAuthorizationType.API_KEY,
    };
    const methods = {
      // With an API key, the page (which holds no data) loads without it and asks for it.
      page: this.api.root.addMethod('GET', integration, {
        authorizationType, requestValidator: validator, requestParameters: optional(['format']), apiKeyRequired: false,
      }),
      services: this.api.root.addResource('services').addMethod('GET', integration, dataOptions),
      list: this.api.root.addResource('list').addMethod('GET', integration, dataOptions),
    };

    if (mode === StatusApiAuthorizationType.API_KEY) {
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'Callers of the ECS status API',
        throttle: { rateLimit: throttle.rateLimit ?? DEFAULTS.throttle.rateLimit, burstLimit: throttle.burstLimit ?? DEFAULTS.throttle.burstLimit },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const key = this.api.addApiKey('ApiKey', { description: 'Reads the ECS status API' });
      this.usagePlan.addApiKey(key);
      this.apiKey = key;
    }

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn });
    } else {
      acknowledgeNagFinding(this.api.deploymentStage, 'AwsSolutions-APIG3',
        'No web ACL is associated by default (webAclArn): the stage throttle caps every caller together and the authorization decides who is answered. Give webAclArn to add AWS WAF.');
    }
    if (props.tracing !== lambda.Tracing.ACTIVE) {
      acknowledgeNagFinding(this.api.deploymentStage, 'Serverless-APIGWXrayEnabled',
        'X-Ray tracing is off by default: each request is in the access log and the function log, at no tracing cost. Set tracing to Tracing.ACTIVE to trace the stage and the function.');
    }
    this.acknowledgeAuthorizationFindings(authorization, methods);
    this.warnAbout(authorization);
  }

  /**
   * Lets `grantee` call the API (`execute-api:Invoke` on its GET methods), as `StatusApiAuthorization.iam()` requires.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('GET', '/*', STAGE_NAME)],
    });
  }

  /**
   * Clusters left out of an answer because they could not be read (Maximum per period). Above 0, some of the fleet
   * is missing from the page and the API; the function's log says why.
   */
  public metricMissingClusters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MissingClusters', 'Maximum', props);
  }

  /** Requests that failed in the function (Sum per period), besides the API's own `metricServerError()`. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Errors', 'Sum', props);
  }

  private metric(metricName: string, statistic: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, FunctionName: this.fn.functionName },
      statistic,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * API Gateway writes the stage's execution logs to `API-Gateway-Execution-Logs_<api id>/<stage>`, and would create
   * it itself, kept for ever and without the log key. Created here first, it has the retention and the key.
   */
  private createExecutionLogGroup(props: HardeningProps): logs.LogGroup {
    const logGroupName = Fn.join('', ['API-Gateway-Execution-Logs_', this.api.restApiId, `/${STAGE_NAME}`]);
    const key = props.logEncryptionKey;
    const group = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
    });
    this.api.deploymentStage.node.addDependency(group);
    if (key) {
      const statement = logsKeyPolicyStatement(this, logGroupName);
      // The name holds the API's id: a key of another stack cannot name it without a dependency cycle.
      const sameStack = Resource.isOwnedResource(key) ? Stack.of(key) === Stack.of(this) : false;
      const added = sameStack && key.addToResourcePolicy(statement).statementAdded;
      if (!added) {
        Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsStatusApi:executionLogKeyPolicy',
          'logEncryptionKey is imported or belongs to another stack, so its key policy cannot name the execution log group, whose name holds the '
          + `API's id (API-Gateway-Execution-Logs_<api id>/${STAGE_NAME}). Add to the key policy a statement that lets logs.<region>.amazonaws.com `
          + 'use the key (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*) with the condition '
          + `ArnLike kms:EncryptionContext:aws:logs:arn = arn:<partition>:logs:<region>:<account>:log-group:API-Gateway-Execution-Logs_*/${STAGE_NAME}, `
          + 'or pass a key created in this stack.');
      }
    }
    return group;
  }

  /** Read-only: list and describe services (and clusters for their tags), scoped to the given clusters. */
  private grantEcsRead(fn: lambda.Function, props: EcsStatusApiProps): void {
    const stack = Stack.of(this);
    const clusters = props.clusters ?? [];
    const scoped = clusters.length > 0;
    const clusterArns = clusters.map((c) => c.clusterArn);
    const onGivenClusters = scoped ? { ArnEquals: { 'ecs:cluster': clusterArns } } : undefined;
    const deliberate: Array<{ statement: iam.PolicyStatement; reason: string }> = [];
    const grant = (statement: iam.PolicyStatement, wildcardReason?: string) => {
      fn.addToRolePolicy(statement);
      if (wildcardReason) deliberate.push({ statement, reason: wildcardReason });
    };

    grant(new iam.PolicyStatement({
      sid: scoped ? 'ListServicesOfGivenClusters' : 'ListClustersAndServices',
      actions: scoped ? ['ecs:ListServices'] : ['ecs:ListClusters', 'ecs:ListServices'],
      resources: ['*'],
      conditions: onGivenClusters,
    }), scoped
      ? 'ecs:ListServices supports no resource-level permissions (Service Authorization Reference), so it is granted on * with the ecs:cluster condition naming the given clusters.'
      : 'ecs:ListClusters and ecs:ListServices support no resource-level permissions (Service Authorization Reference), so they take *; give clusters to add the ecs:cluster condition.');

    // Service ARNs come in two formats (service/<cluster>/<name>, and the older service/<name>): the ecs:cluster
    // condition scopes both to the given clusters, where a cluster name in the resource would miss the older one.
    const describe = new iam.PolicyStatement({
      sid: scoped ? 'DescribeServicesOfGivenClusters' : 'DescribeServices',
      actions: ['ecs:DescribeServices'],
      resources: [stack.formatArn({ service: 'ecs', resource: 'service', resourceName: '*' })],
      conditions: onGivenClusters,
    });
    // Without clusters the read is account-wide: the finding stays for the user to see (the clusters prop fixes it).
    grant(describe, scoped
      ? 'Service names are known only at run time; the ecs:cluster condition limits DescribeServices to the given clusters, for services of both ARN formats.'
      : undefined);

    if (props.inheritClusterTags) {
      const statement = new iam.PolicyStatement({
        sid: 'DescribeClustersForTheirTags',
        actions: ['ecs:DescribeClusters'],
        resources: scoped ? clusterArns : [stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: '*' })],
      });
      grant(statement);
    }

    const policy = defaultPolicyOf(fn.role!);
    for (const { statement, reason } of deliberate) acknowledgeWildcardResources(policy, statement, reason);
  }

  /** The cdk-nag findings of the chosen authorization that are deliberate; with none(), they stay for the user. */
  private acknowledgeAuthorizationFindings(authorization: StatusApiAuthorization, methods: Record<'page' | 'services' | 'list', apigateway.Method>): void {
    const mode = authorization.authorizationType;
    const cognito = 'The status API authorizes callers with {how} (the authorization prop), not with a Cognito user pool: '
      + 'its callers are engineers, dashboards and scripts, not the users of an application.';
    for (const [name, method] of Object.entries(methods) as Array<[keyof typeof methods, apigateway.Method]>) {
      if (mode === StatusApiAuthorizationType.IAM) {
        acknowledgeNagFinding(method, 'AwsSolutions-COG4', cognito.replace('{how}', 'IAM (SigV4-signed requests, execute-api:Invoke)'));
      } else if (mode === StatusApiAuthorizationType.IP_ALLOW_LIST) {
        const how = `the API's resource policy, which denies every source address outside ${authorization.allowedCidrs.length} allowed block(s)`;
        acknowledgeNagFinding(method, 'AwsSolutions-APIG4', `Callers are limited by ${how} (StatusApiAuthorization.ipAllowList), not by an authorizer.`);
        acknowledgeNagFinding(method, 'AwsSolutions-COG4', cognito.replace('{how}', how));
      } else if (mode === StatusApiAuthorizationType.API_KEY) {
        const reason = name === 'page'
          ? 'With StatusApiAuthorization.apiKey() the status page (a static document with no fleet data) loads without the key and asks for it; '
            + 'every request for data needs the key.'
          : 'Callers need an API key of the usage plan (StatusApiAuthorization.apiKey()), which also throttles them; no authorizer is used.';
        acknowledgeNagFinding(method, 'AwsSolutions-APIG4', reason);
        acknowledgeNagFinding(method, 'AwsSolutions-COG4', cognito.replace('{how}', 'an API key of its usage plan'));
      }
    }
  }

  private warnAbout(authorization: StatusApiAuthorization): void {
    if (authorization.authorizationType === StatusApiAuthorizationType.NONE) {
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsStatusApi:publicApi',
        'authorization is StatusApiAuthorization.none(): anyone on the internet can read the names, tags, counts and events of your ECS services. '
        + 'Use iam(), ipAllowList() or apiKey() unless that is what you want.');
    }
    const { privateOnly, everything } = authorization._notices();
    if (privateOnly.length > 0) {
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsStatusApi:privateAllowList',
        `StatusApiAuthorization.ipAllowList() has private address blocks (${privateOnly.join(', ')}). The API is public and regional: it sees `
        + 'the public address a request comes from (a NAT gateway, a VPN or office egress), never a private one, so these blocks match no caller.');
    }
    if (everything.length > 0) {
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsStatusApi:openAllowList',
        `StatusApiAuthorization.ipAllowList() allows every address (${everything.join(', ')}): the API is as public as with none().`);
    }
  }
}

/** Allow everyone the API, then deny every address outside the list (a Deny wins over the Allow). */
function ipAllowListPolicy(cidrs: readonly string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AllowInvoke',
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        sid: 'DenyOutsideAllowList',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': cidrs.map((c) => c.trim()) } },
      }),
    ],
  });
}

/** Checks every prop and throws one error that lists each mistake. */
function validate(scope: Construct, props: EcsStatusApiProps): void {
  const problems: string[] = [];
  const seconds = (name: string, value: Duration | undefined, min: number, max: number, hint: string) => {
    if (!value || value.isUnresolved()) return;
    let s: number;
    try {
      s = value.toSeconds();
    } catch {
      problems.push(`${name} is ${value.toHumanString()}; give a whole number of seconds (${hint})`);
      return;
    }
    if (s < min || s > max) problems.push(`${name} is ${value.toHumanString()}; give ${hint}`);
  };

  if (props.clusters && props.clusters.length === 0) {
    problems.push('clusters is empty; give the clusters to report, or leave clusters out for every cluster in the account and region');
  } else if (props.clusters && new Set(props.clusters).size !== props.clusters.length) {
    problems.push('clusters lists the same cluster more than once');
  }
  // Converted to seconds for the function here. throttle.rateLimit and throttle.burstLimit may be tokens: they go to the
  // stage (and the usage plan) as they are, and API Gateway checks them.
  problems.push(...literalDurationProblems(scope, { cacheTtl: props.cacheTtl, refreshInterval: props.refreshInterval }));
  seconds('cacheTtl', props.cacheTtl, 0, 900, 'from 0 (no cache) to 15 minutes');
  seconds('refreshInterval', props.refreshInterval, 10, 3600, 'from 10 seconds to 1 hour');
  if (props.title !== undefined && !Token.isUnresolved(props.title)
    && (props.title.trim() === '' || props.title.length > 100 || /[\u0000-\u001f]/.test(props.title))) {
    problems.push(`title is ${JSON.stringify(props.title)}; give 1 to 100 characters on one line`);
  }
  const rate = props.throttle?.rateLimit;
  const burst = props.throttle?.burstLimit;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate > 0 && rate <= 10_000)) {
    problems.push(`throttle.rateLimit is ${rate}; give requests per second above 0, at most 10000`);
  }
  if (burst !== undefined && !Token.isUnresolved(burst) && !(Number.isInteger(burst) && burst >= 1 && burst <= 5000)) {
    problems.push(`throttle.burstLimit is ${burst}; give a whole number of requests from 1 to 5000`);
  }
  for (const [name, key] of Object.entries(props.tagKeys ?? {})) {
    if (key !== undefined && !Token.isUnresolved(key) && (typeof key !== 'string' || key.length < 1 || key.length > 128)) {
      problems.push(`tagKeys.${name} is ${JSON.stringify(key)}; give a tag key of 1 to 128 characters`);
    }
  }
  if (props.webAclArn !== undefined && !Token.isUnresolved(props.webAclArn)
    && !/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+/.test(props.webAclArn)) {
    problems.push(`webAclArn is ${JSON.stringify(props.webAclArn)}; give the ARN of a regional AWS WAF v2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)`);
  }
  if (props.authorization) problems.push(...props.authorization._problems());
  problems.push(...validateHardening(props));

  problems.push(...environmentProblems(scope, 'EcsStatusApi', [
    ...subjectsOf('clusters', 'cluster', props.clusters, (c) => c.clusterArn),
    // A web ACL is associated with a stage of its own account and region only.
    ...arnSubject('webAclArn', 'web ACL', props.webAclArn),
    ...hardeningSubjects(props),
  ]));

  throwIfInvalid('EcsStatusApi', problems);
}

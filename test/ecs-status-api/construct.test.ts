import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { EcsStatusApi, EcsStatusApiProps, StatusApiAuthorization, StatusApiAuthorizationType } from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };
const ARN = `arn:aws:ecs:${ENV.region}:${ENV.account}`;

function setup() {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const prod = ecs.Cluster.fromClusterArn(stack, 'Prod', `${ARN}:cluster/prod`);
  const batch = ecs.Cluster.fromClusterArn(stack, 'Batch', `${ARN}:cluster/batch`);
  return { stack, prod, batch };
}

function statusTemplate(props: (s: ReturnType<typeof setup>) => EcsStatusApiProps = () => ({})) {
  const s = setup();
  const status = new EcsStatusApi(s.stack, 'Status', props(s));
  return { ...s, status, template: Template.fromStack(s.stack) };
}

/** The statements of the function role's policy. */
function roleStatements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function methods(template: Template): Record<string, any> {
  const resources = template.toJSON().Resources;
  const pathOf = (resourceId: any): string => {
    if (resourceId['Fn::GetAtt']) return '/';
    return `/${resources[resourceId.Ref].Properties.PathPart}`;
  };
  return Object.fromEntries(Object.values(template.findResources('AWS::ApiGateway::Method')).map((m: any) => [pathOf(m.Properties.ResourceId), m.Properties]));
}

describe('EcsStatusApi', () => {
  test('creates a Node.js 24 ARM function from the prebuilt bundle with its settings', () => {
    const { template } = statusTemplate();

    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 29,
      Description: 'cdk-ecs-ops EcsStatusApi: answers the ECS status API and page (IAM)',
      Environment: {
        Variables: {
          CLUSTERS: '',
          CACHE_TTL_SECONDS: '30',
          INHERIT_CLUSTER_TAGS: 'false',
          AUTHORIZATION: 'IAM',
          PAGE_TITLE: 'ECS services',
          REFRESH_SECONDS: '60',
          POWERTOOLS_SERVICE_NAME: 'ecs-status-api',
          POWERTOOLS_METRICS_NAMESPACE: 'CdkEcsOps',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
  });

  test('passes every setting to the function', () => {
    const { template } = statusTemplate((s) => ({
      clusters: [s.prod, s.batch],
      cacheTtl: Duration.minutes(2),
      inheritClusterTags: true,
      tagKeys: { environment: 'stage', contact: 'oncall' },
      refreshInterval: Duration.seconds(15),
      title: 'Payments fleet',
    }));

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CLUSTERS: 'prod,batch',
          CACHE_TTL_SECONDS: '120',
          INHERIT_CLUSTER_TAGS: 'true',
          TAG_KEY_ENVIRONMENT: 'stage',
          TAG_KEY_CONTACT: 'oncall',
          REFRESH_SECONDS: '15',
          PAGE_TITLE: 'Payments fleet',
        }),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('TAG_KEY_OWNER');
  });

  test('a regional REST API with one stage: JSON access logs, error execution logs, throttle, no tracing by default, compression', () => {
    const { stack, status, template } = statusTemplate();

    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      MinimumCompressionSize: 1024,
      Policy: Match.absent(),
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: false,
      AccessLogSetting: {
        DestinationArn: stack.resolve(status.accessLogGroup.logGroupArn),
        Format: Match.stringLikeRegexp('^\\{"requestId":"\\$context.requestId","ip":"\\$context.identity.sourceIp","user":"\\$context.identity.user","caller":"\\$context.identity.caller"'),
      },
      MethodSettings: [{
        HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20,
      }],
    });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    expect(stack.resolve(status.url)).toEqual({
      'Fn::Join': ['', ['https://', { Ref: expect.any(String) }, '.execute-api.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: expect.any(String) }, '/']],
    });
  });

  test('the execution log group is created before the stage, with the name API Gateway uses, the retention and the key', () => {
    const s = setup();
    const key = new kms.Key(s.stack, 'Key');
    const keyed = new EcsStatusApi(s.stack, 'Status', { logEncryptionKey: key });
    const keyedTemplate = Template.fromStack(s.stack);

    const apiId = s.stack.resolve(keyed.api.restApiId);
    const name = { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', apiId, '/v1']] };
    keyedTemplate.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: name, RetentionInDays: 90, KmsKeyId: s.stack.resolve(key.keyArn) });
    const stage = Object.values(keyedTemplate.findResources('AWS::ApiGateway::Stage'))[0];
    expect(stage.DependsOn).toContain(s.stack.getLogicalId(keyed.executionLogGroup.node.defaultChild as any));
    keyedTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.us-east-1.amazonaws.com' },
          Condition: {
            ArnEquals: {
              'kms:EncryptionContext:aws:logs:arn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:API-Gateway-Execution-Logs_', apiId, '/v1']],
              },
            },
          },
        })]),
      },
    });
  });

  test('a key of another stack, or an imported one, cannot name the execution log group: synth says what to add', () => {
    const app = new App();
    const keys = new Stack(app, 'Keys', { env: ENV });
    const key = new kms.Key(keys, 'Key');
    const ops = new Stack(app, 'Ops', { env: ENV });
    new EcsStatusApi(ops, 'Status', { logEncryptionKey: key });

    const warnings = Annotations.fromStack(ops).findWarning('*', Match.stringLikeRegexp('execution log group'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/API-Gateway-Execution-Logs_\*\/v1/);
    // No statement naming the API went to the other stack's key (it would be a dependency cycle).
    expect(JSON.stringify(Template.fromStack(keys).toJSON())).not.toContain('API-Gateway-Execution-Logs');
  });

  test('tracing ACTIVE traces the stage as well as the function', () => {
    const { template } = statusTemplate(() => ({ tracing: lambda.Tracing.ACTIVE }));

    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  test('GET /, /services and /list go to the function (proxy), validated, with the query parameters declared', () => {
    const { template } = statusTemplate();

    const byPath = methods(template);
    expect(Object.keys(byPath).sort()).toEqual(['/', '/list', '/services']);
    for (const method of Object.values(byPath)) {
      expect(method).toMatchObject({
        HttpMethod: 'GET',
        AuthorizationType: 'AWS_IAM',
        RequestValidatorId: { Ref: expect.any(String) },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
    }
    expect(Object.keys(byPath['/services'].RequestParameters).sort()).toEqual([
      'contact', 'cluster', 'environment', 'format', 'health', 'launchType', 'limit', 'name', 'nextToken', 'owner', 'status',
    ].map((p) => `method.request.querystring.${p}`).sort());
    expect(Object.values(byPath['/services'].RequestParameters).every((required) => required === false)).toBe(true);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
  });

  test('one invoke permission: API Gateway, the stage\'s GET methods, this account', () => {
    const { stack, status, template } = statusTemplate();

    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: stack.resolve(status.api.arnForExecuteApi('GET', '/*', 'v1')),
    });
  });

  test('ipAllowList: a resource policy denies every address outside the list; no method authorization', () => {
    const { template } = statusTemplate(() => ({ authorization: StatusApiAuthorization.ipAllowList(['203.0.113.0/24', ' 2001:db8::/32']) }));

    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AllowInvoke', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
          {
            Sid: 'DenyOutsideAllowList',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*',
            Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } },
          },
        ],
      },
    });
    expect(Object.values(methods(template)).map((m) => [m.AuthorizationType, m.ApiKeyRequired])).toEqual([['NONE', false], ['NONE', false], ['NONE', false]]);
  });

  test('ipAllowList: a changed list makes a new deployment, without which API Gateway would keep the old policy', () => {
    const deploymentOf = (cidrs: string[]) => Object.keys(statusTemplate(() => ({ authorization: StatusApiAuthorization.ipAllowList(cidrs) }))
      .template.findResources('AWS::ApiGateway::Deployment'));

    expect(deploymentOf(['203.0.113.0/24'])).toEqual(deploymentOf(['203.0.113.0/24']));
    expect(deploymentOf(['203.0.113.0/24'])).not.toEqual(deploymentOf(['203.0.113.0/24', '198.51.100.7/32']));
  });

  test('apiKey: the data needs a key of a usage plan with the stage throttle; the page loads without it', () => {
    const { status, template } = statusTemplate(() => ({
      authorization: StatusApiAuthorization.apiKey(),
      throttle: { rateLimit: 5, burstLimit: 8 },
    }));

    const byPath = methods(template);
    expect([byPath['/'].ApiKeyRequired, byPath['/services'].ApiKeyRequired, byPath['/list'].ApiKeyRequired]).toEqual([false, true, true]);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 5, BurstLimit: 8 },
      ApiStages: [{ ApiId: { Ref: Match.anyValue() }, Stage: { Ref: Match.anyValue() } }],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 8 })] });
    expect(status.apiKey).toBeDefined();
    expect(status.usagePlan).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ AUTHORIZATION: 'API_KEY' }) } });
  });

  test('none: no authorization anywhere, and synth warns that the fleet is public', () => {
    const { stack, template } = statusTemplate(() => ({ authorization: StatusApiAuthorization.none() }));

    expect(Object.values(methods(template)).map((m) => m.AuthorizationType)).toEqual(['NONE', 'NONE', 'NONE']);
    Annotations.fromStack(stack).hasWarning('/Stack/Status', Match.stringLikeRegexp('anyone on the internet can read'));
  });

  test('ipAllowList: synth warns about private blocks (a public API never sees them) and about allowing everything', () => {
    const { stack } = statusTemplate(() => ({ authorization: StatusApiAuthorization.ipAllowList(['10.0.0.0/8', '192.168.1.7', '0.0.0.0/0', '198.51.100.0/24']) }));

    Annotations.fromStack(stack).hasWarning('/Stack/Status', Match.stringLikeRegexp('private address blocks \\(10.0.0.0/8, 192.168.1.7\\)'));
    Annotations.fromStack(stack).hasWarning('/Stack/Status', Match.stringLikeRegexp('allows every address \\(0.0.0.0/0\\)'));
  });

  test('webAclArn associates the web ACL with the stage; cloudWatchRole sets the account\'s logging role', () => {
    const webAclArn = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/ops/0a1b2c3d-1111-2222-3333-444455556666';
    const { stack, status, template } = statusTemplate(() => ({ webAclArn, cloudWatchRole: true }));

    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: webAclArn, ResourceArn: stack.resolve(status.api.deploymentStage.stageArn) });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('IAM with clusters: list and describe services of those clusters only (ecs:cluster), nothing else', () => {
    const { template } = statusTemplate((s) => ({ clusters: [s.prod, s.batch] }));

    const onClusters = { ArnEquals: { 'ecs:cluster': [`${ARN}:cluster/prod`, `${ARN}:cluster/batch`] } };
    expect(roleStatements(template).filter((st) => String(st.Action).startsWith('ecs:'))).toEqual([
      { Sid: 'ListServicesOfGivenClusters', Effect: 'Allow', Action: 'ecs:ListServices', Resource: '*', Condition: onClusters },
      {
        Sid: 'DescribeServicesOfGivenClusters',
        Effect: 'Allow',
        Action: 'ecs:DescribeServices',
        Condition: onClusters,
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:service/*']] },
      },
    ]);
  });

  test('IAM without clusters: ListClusters too, account-wide; DescribeClusters only to inherit cluster tags', () => {
    const accountWide = roleStatements(statusTemplate().template).filter((st) => JSON.stringify(st.Action).includes('ecs:'));
    const inheriting = roleStatements(statusTemplate((s) => ({ clusters: [s.prod], inheritClusterTags: true })).template)
      .filter((st) => JSON.stringify(st.Action).includes('ecs:'));

    expect(accountWide.map((st) => [st.Action, st.Condition])).toEqual([
      [['ecs:ListClusters', 'ecs:ListServices'], undefined],
      ['ecs:DescribeServices', undefined],
    ]);
    expect(inheriting.find((st) => st.Action === 'ecs:DescribeClusters')).toEqual({
      Sid: 'DescribeClustersForTheirTags', Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: `${ARN}:cluster/prod`,
    });
  });

  test('grantInvoke lets a principal call the GET methods of the stage', () => {
    const { stack } = setup();
    const status = new EcsStatusApi(stack, 'Status');
    const role = new iam.Role(stack, 'Dashboard', { assumedBy: new iam.AccountRootPrincipal() });

    status.grantInvoke(role);

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as any) }],
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: stack.resolve(status.api.arnForExecuteApi('GET', '/*', 'v1')) }] },
    });
  });

  test('metricMissingClusters is the function\'s MissingClusters metric', () => {
    const { stack, status } = statusTemplate();

    const metric = status.metricMissingClusters();

    expect(metric.namespace).toBe('CdkEcsOps');
    expect(metric.metricName).toBe('MissingClusters');
    expect(metric.statistic).toBe('Maximum');
    expect(stack.resolve(metric.dimensions)).toEqual({ service: 'ecs-status-api', FunctionName: stack.resolve(status.handler.functionName) });
    expect(status.metricErrors().metricName).toBe('Errors');
  });

  test('the authorization is exposed with its kind', () => {
    expect(statusTemplate().status.authorization.authorizationType).toBe(StatusApiAuthorizationType.IAM);
    expect(StatusApiAuthorization.ipAllowList(['203.0.113.9']).allowedCidrs).toEqual(['203.0.113.9']);
  });
});

describe('validation', () => {
  const build = (props: (s: ReturnType<typeof setup>) => EcsStatusApiProps) => () => statusTemplate(props);

  test('fails on every bad prop at once, naming each with its value', () => {
    expect(build((s) => ({
      clusters: [s.prod, s.prod],
      cacheTtl: Duration.minutes(20),
      refreshInterval: Duration.seconds(5),
      title: '',
      throttle: { rateLimit: 0, burstLimit: 2.5 },
      tagKeys: { owner: '' },
      webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/ops/1',
      authorization: StatusApiAuthorization.ipAllowList(['10.0.0.0/33', 'office']),
    }))).toThrow(new RegExp([
      'Invalid EcsStatusApi props:',
      '- clusters lists the same cluster more than once',
      '- cacheTtl is 20 minutes; give from 0 \\(no cache\\) to 15 minutes',
      '- refreshInterval is 5 seconds; give from 10 seconds to 1 hour',
      '- title is ""; give 1 to 100 characters on one line',
      '- throttle.rateLimit is 0; give requests per second above 0, at most 10000',
      '- throttle.burstLimit is 2.5; give a whole number of requests from 1 to 5000',
      '- tagKeys.owner is ""; give a tag key of 1 to 128 characters',
      '- webAclArn is "arn:aws:wafv2:us-east-1:123456789012:global/webacl/ops/1"; give the ARN of a regional AWS WAF v2 web ACL[^\\n]*',
      '- authorization: StatusApiAuthorization.ipAllowList\\(\\) got "10.0.0.0/33", "office"; give IPv4 or IPv6 addresses or CIDR blocks',
    ].join('\\n')));
  });

  test('fails on an empty clusters list and an empty IP allow list', () => {
    expect(build(() => ({ clusters: [], authorization: StatusApiAuthorization.ipAllowList([]) })))
      .toThrow(/clusters is empty; give the clusters to report, or leave clusters out[\s\S]*ipAllowList\(\) got no address/);
  });

  test('fails on a cacheTtl or refreshInterval that is not whole seconds', () => {
    expect(build(() => ({ cacheTtl: Duration.millis(1500), refreshInterval: Duration.millis(30_500) })))
      .toThrow(/cacheTtl is 1 second 500 millis; give a whole number of seconds[\s\S]*refreshInterval is 30 seconds 500 millis; give a whole number of seconds/);
  });

  test('fails with the hardening props\' own problems in the same error', () => {
    expect(build(() => ({ cacheTtl: Duration.hours(1), tracing: 'Sometimes' as lambda.Tracing })))
      .toThrow(/cacheTtl is 1 hour[\s\S]*tracing is "Sometimes"/);
  });

  test('accepts a cache of 0 (every request reads ECS) and a multi-line-free title of 100 characters', () => {
    expect(build(() => ({ cacheTtl: Duration.seconds(0), title: 'x'.repeat(100) }))).not.toThrow();
  });
});

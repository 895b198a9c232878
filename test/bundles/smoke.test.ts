/**
 * Run what ships: each built handler bundle, imported in a fresh Node.js process with the environment its
 * construct synthesizes at defaults, runs one typical invocation against a local stand-in for AWS, on the Node.js of
 * every Lambda runtime a function may get (TESTED_NODEJS_RUNTIMES: 24 and 26). A bundling mistake (a chunk not
 * shipped, an ESM/CommonJS mix-up, a module read from disk) or code that one of them runs differently fails here,
 * not in Lambda.
 */
import * as path from 'path';
import { TYPICAL_RUNS, clientsLoaded } from './typical-runs';
import { TESTED_NODEJS_RUNTIMES } from '../../src/common/runtimes';
import { AwsStandin } from '../support/aws-standin';
import { runBundle } from '../support/run-bundle';

const ASSETS = path.join(__dirname, '..', '..', 'assets');

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

describe.each(TYPICAL_RUNS)('the $bundle bundle ($description)', (run) => {
  test.each(TESTED_NODEJS_RUNTIMES)('runs a typical invocation from the shipped asset on %s, making exactly the expected calls', async (runtime) => {
    // Prepare
    run.answer(standin);

    // Act
    const result = await runBundle({
      assetDir: path.join(ASSETS, run.bundle), environment: run.environment(), event: run.event, standin, handler: run.handler, runtime,
    });

    // Assess
    expect(result.error).toBeUndefined();
    expect([...new Set(standin.calls.map((c) => `${c.service}:${c.operation}`))]).toEqual(run.calls);
    expect(standin.calls.filter((c) => c.status !== 200)).toEqual([]);
    expect(result.outsideFiles).toEqual([]);
    expect(result.loadedFiles[0].path).toBe('index.mjs');
    // Only the clients the run calls are loaded: the others wait in chunks of their own.
    expect(clientsLoaded(path.join(ASSETS, run.bundle), result.loadedFiles)).toEqual(run.clients);
    // Every log line is structured JSON with the invocation's request id.
    const lines = result.logs.filter((l): l is Record<string, unknown> => typeof l === 'object' && l !== null && !('_aws' in l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => typeof l.function_request_id !== 'string')).toEqual([]);
  });
});

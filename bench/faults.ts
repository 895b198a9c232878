/**
 * Each shipped handler under the three faults of test/bundles/fault-scenarios.ts (a dependency that never answers,
 * throttles every call, or answers 500): the built bundle with the environment and the timeout its construct
 * synthesizes, against the local AWS stand-in. Prints, per run, the invocation's wall time against the function's
 * timeout, what it did and what it reported, as the Markdown table of the README's "Reliability" section.
 * Nothing is asserted here (test/bundles/faults.test.ts does).
 *
 * Usage: npx projen bench:faults [-- --concurrency 3] [-- --only runner]   (`--only`: the handlers whose name starts so)
 */
import { FAULT_MODES, FAULT_NAMES, FAULT_SCENARIOS, FaultRun, runFaultScenario } from '../test/bundles/fault-scenarios';

const argument = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
/** Runs at once: each mostly waits (on a fault, or a backoff), so a few at a time barely change the times. */
const CONCURRENCY = Number(argument('--concurrency')) || 3;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const only = argument('--only');
  const jobs = FAULT_SCENARIOS.filter((scenario) => !only || scenario.handler.startsWith(only))
    .flatMap((scenario) => FAULT_MODES.map((mode) => ({ scenario, mode })));
  const results: FaultRun[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, async () => {
    while (next < jobs.length) {
      const index = next++;
      const { scenario, mode } = jobs[index];
      results[index] = await runFaultScenario(scenario, mode);
      const r = results[index];
      console.error(`${scenario.handler} / ${mode}: ${seconds(r.run.invokeMs)} of ${seconds(r.timeoutMs)}${r.run.error ? ` (${r.run.error.name})` : ''}`);
    }
  }));

  console.log('| Handler | Fault | Wall time | Timeout | What was done | What was reported |');
  console.log('|---|---|---:|---:|---|---|');
  for (const r of results) {
    const { done, reported } = r.scenario.summarize(r);
    const timedOut = r.run.error?.name === 'Sandbox.Timedout' ? ' **(timed out)**' : '';
    console.log(`| ${r.scenario.handler} | ${r.scenario.faulted} ${FAULT_NAMES[r.mode]} | ${seconds(r.run.invokeMs)}${timedOut} | ${seconds(r.timeoutMs)} `
      + `| ${done.replace(/\|/g, '\\|')} | ${reported.replace(/\|/g, '\\|')} |`);
  }
  const worst = results.reduce((a, b) => (a.run.invokeMs / a.timeoutMs > b.run.invokeMs / b.timeoutMs ? a : b));
  console.log(`\nClosest to its timeout: ${worst.scenario.handler} / ${worst.mode}, ${Math.round((worst.run.invokeMs / worst.timeoutMs) * 100)}% of it.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

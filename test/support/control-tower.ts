/**
 * AWS Control Tower's proactive controls, as the cfn-guard rules that @cdklabs/cdk-validator-cfnguard ships, run
 * over a synthesized app the way CDK's policy validation runs them.
 *
 * ```ts
 * const violations = controlTowerViolations((stack) => new EcsAgentMonitor(stack, 'Monitor', { clusters }));
 * expect(violations.map((v) => v.rule)).toEqual([]);
 * ```
 *
 * The violations are counted from the report itself: the plugin's overall status can read "success" while the
 * report still lists violations (acknowledged ones, for example), so it is not relied on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack } from 'aws-cdk-lib';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface ControlTowerViolation {
  /** The Control Tower control, e.g. `CT.LAMBDA.PR.3`. */
  readonly rule: string;
  /** The construct path of the resource that breaks it. */
  readonly path: string;
}

/**
 * Synthesizes a stack built by `build` in an app validated by the Control Tower rules and returns every violation,
 * one per rule and resource, sorted.
 */
export function controlTowerViolations(build: (stack: Stack) => void): ControlTowerViolation[] {
  const outdir = mkdtempSync(join(tmpdir(), 'control-tower-'));
  try {
    const app = new App({
      outdir,
      policyValidationBeta1: [new CfnGuardValidator({ controlTowerRulesEnabled: true })],
      context: { '@aws-cdk/core:validationReportJson': true },
    });
    build(new Stack(app, 'HardenedStack', { env: { account: ACCOUNT, region: REGION } }));
    // CDK sets process.exitCode = 1 when validation fails: that is this harness's result, not the test run's.
    const exitCode = process.exitCode;
    try {
      quietly(() => app.synth());
    } finally {
      process.exitCode = exitCode;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'policy-validation-report.json'), 'utf8'));
    const violations = new Map<string, ControlTowerViolation>();
    for (const plugin of report.pluginReports ?? []) {
      for (const violation of plugin.violations ?? []) {
        const rule = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(violation.description ?? '')?.[1] ?? violation.ruleName;
        for (const construct of violation.violatingConstructs ?? []) {
          violations.set(`${rule} ${construct.constructPath}`, { rule, path: construct.constructPath });
        }
      }
    }
    return [...violations.values()].sort((a, b) => a.rule.localeCompare(b.rule) || a.path.localeCompare(b.path));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The distinct rules of some violations, sorted. */
export function rulesOf(violations: readonly ControlTowerViolation[]): string[] {
  return [...new Set(violations.map((v) => v.rule))].sort();
}

/** CDK prints the validation report's summary to the console; keep it out of the test output. */
function quietly(fn: () => void): void {
  const spies = [jest.spyOn(console, 'log'), jest.spyOn(console, 'error'), jest.spyOn(console, 'warn')]
    .map((spy) => spy.mockImplementation(() => undefined));
  try {
    fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

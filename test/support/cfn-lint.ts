/**
 * cfn-lint (AWS's CloudFormation linter, 1.51 in the machine's python3) over synthesized templates, in one
 * process: it takes seconds to start, so templates are written to a temporary folder and linted together.
 *
 * ```ts
 * const findings = cfnLint({ 'EcsParrot defaults': Template.fromStack(stack).toJSON() });
 * expect(findings.filter((f) => f.level === 'Error')).toEqual([]);
 * ```
 *
 * Needs python3 with cfn-lint (`pip install cfn-lint==1.51.0`); .ci/run checks for it first. cfn-lint 1.x has
 * no `python3 -m cfnlint` entry point, so its console script's `main` is called the same way.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

/** The python3 arguments that run cfn-lint's command line (append cfn-lint's own arguments). */
export const CFN_LINT_COMMAND = ['-c', 'import sys; from cfnlint.runner import main; sys.exit(main())'];

/** One cfn-lint finding. */
export interface CfnLintFinding {
  /** The name the template was given. */
  readonly template: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  /** The rule, e.g. `E3012`. */
  readonly rule: string;
  readonly message: string;
  /** Where in the template, e.g. `Resources/Fn/DependsOn/1`. */
  readonly path: string;
}

/** Lint each template (by name) for `region`, in one cfn-lint process. */
export function cfnLint(templates: Record<string, unknown>, region = 'us-east-1'): CfnLintFinding[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-'));
  try {
    const files = Object.entries(templates).map(([name, template], i) => {
      const file = path.join(dir, `template-${String(i).padStart(3, '0')}.json`);
      writeFileSync(file, JSON.stringify(template, null, 1));
      return { name, file };
    });
    const run = spawnSync('python3', [...CFN_LINT_COMMAND, '--format', 'json', '--regions', region, '--', ...files.map((f) => f.file)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // cfn-lint exits 0, or with bits 2 (errors), 4 (warnings) and 8 (informational); 1 (or anything odd) is a failure to lint.
    if (run.error || run.status === null || run.status % 2 === 1) {
      throw new Error(`cfn-lint could not run (python3 with cfn-lint 1.51 is needed: pip install cfn-lint==1.51.0): ${run.error?.message ?? ''}${run.stderr}`);
    }
    const byFile = new Map(files.map((f) => [path.basename(f.file), f.name]));
    return (JSON.parse(run.stdout || '[]') as any[]).map((m) => ({
      template: byFile.get(path.basename(m.Filename)) ?? m.Filename,
      level: m.Level,
      rule: m.Rule.Id,
      message: m.Message,
      path: (m.Location?.Path ?? []).join('/'),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

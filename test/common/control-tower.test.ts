/**
 * AWS Control Tower's proactive controls (the cfn-guard rules of @cdklabs/cdk-validator-cfnguard): each construct's
 * documented defaults break exactly the controls the README lists, and its hardened example breaks none.
 */
import { controlTowerViolations, rulesOf } from '../support/control-tower';
import { DOCUMENTED_CONFIGURATIONS } from '../support/documented-configurations';
import { MODULES } from '../support/modules';

const CHECKED = DOCUMENTED_CONFIGURATIONS.filter((c) => c.expectedControlTowerViolations !== undefined);

test('every construct has a hardened configuration and a configuration at its defaults checked', () => {
  const constructs = (names: string[]) => new Set(names.map((n) => n.split(':')[0]));
  const all = constructs(DOCUMENTED_CONFIGURATIONS.map((c) => c.name));
  expect(constructs(CHECKED.filter((c) => c.expectedControlTowerViolations!.length === 0).map((c) => c.name))).toEqual(all);
  expect(constructs(CHECKED.filter((c) => c.expectedControlTowerViolations!.length > 0).map((c) => c.name))).toEqual(all);
});

test.each(CHECKED)('$name: breaks exactly the documented controls', ({ build, expectedControlTowerViolations }) => {
  const violations = controlTowerViolations((stack) => build(stack, MODULES));

  expect(rulesOf(violations)).toEqual([...expectedControlTowerViolations!].sort());
  // CDK marks the process failed when validation finds violations; the harness takes that back, or jest would exit 1.
  expect(process.exitCode ?? 0).toBe(0);
});

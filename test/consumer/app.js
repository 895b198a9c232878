/*
 * A user's CDK app, run by test/consumer/consumer.test.ts in a folder where only the packed cdk-ecs-ops,
 * aws-cdk-lib, constructs and cdk-nag are installed. It synthesizes every documented configuration
 * (./configurations.js, transpiled from test/support/documented-configurations.ts) with cdk-nag's
 * AwsSolutions and Serverless packs, the way the cdk-nag major version it is given is meant to be used, and
 * with AWS's default template rules as errors where this aws-cdk-lib has them, and prints one JSON line: where
 * the modules came from, what this aws-cdk-lib knows, and per configuration its findings and functions.
 *
 * Usage: node app.js <outdir> [<cdk-nag module>]   (default `cdk-nag`; an app with both majors installs cdk-nag 3
 * under an alias, and each run loads one of them only, as a user's app would)
 */
'use strict';
const fs = require('fs');
const path = require('path');
const cdk = require('aws-cdk-lib');
const cxapi = require('aws-cdk-lib/cx-api');
const lib = require('cdk-ecs-ops');
const { ACCOUNT, REGION, DOCUMENTED_CONFIGURATIONS } = require('./configurations');

const outRoot = process.argv[2];
const nagModule = process.argv[3] ?? 'cdk-nag';
const nag = require(nagModule);
const nagVersion = require(`${nagModule}/package.json`).version;
const nagMajor = Number(nagVersion.split('.')[0]);

const modules = {
  lib,
  cdk,
  autoscaling: require('aws-cdk-lib/aws-autoscaling'),
  cloudwatchActions: require('aws-cdk-lib/aws-cloudwatch-actions'),
  ec2: require('aws-cdk-lib/aws-ec2'),
  ecs: require('aws-cdk-lib/aws-ecs'),
  iam: require('aws-cdk-lib/aws-iam'),
  kms: require('aws-cdk-lib/aws-kms'),
  lambda: require('aws-cdk-lib/aws-lambda'),
  logs: require('aws-cdk-lib/aws-logs'),
  secretsmanager: require('aws-cdk-lib/aws-secretsmanager'),
  sns: require('aws-cdk-lib/aws-sns'),
};

/**
 * `@aws-cdk/core:validateAgainstDefaultRules` (aws-cdk-lib 2.262.0 and later): every synth checks the templates
 * against AWS's default rules (the "CloudFormation Validate" plugin), and with the flag set to true what they find
 * are errors, not warnings. Undefined where this aws-cdk-lib has no such rules.
 */
const DEFAULT_RULES_FLAG = cxapi.VALIDATE_AGAINST_DEFAULT_RULES;
const DEFAULT_RULES_PLUGIN = 'CloudFormation Validate';

/** cdk-nag 2: the packs are Aspects; a logger collects what nothing suppressed. */
function withNag2(app) {
  const findings = [];
  const logger = {
    onNonCompliance: (d) => findings.push({ id: d.findingId ? `${d.ruleId}[${d.findingId}]` : d.ruleId, path: d.resource.node.path }),
    onError: (d) => findings.push({ id: `CdkNagValidationFailure[${d.ruleId}]`, path: d.resource.node.path }),
    onCompliance: () => undefined,
    onSuppressed: () => undefined,
    onSuppressedError: () => undefined,
    onNotApplicable: () => undefined,
  };
  const props = { verbose: true, reports: false, additionalLoggers: [logger] };
  cdk.Aspects.of(app).add(new nag.AwsSolutionsChecks(props));
  cdk.Aspects.of(app).add(new nag.ServerlessChecks(props));
  return { packs: [], findings: () => findings };
}

/**
 * cdk-nag 3: the packs are policy validation plugins, and synth writes their report. An aws-cdk-lib that gives
 * plugins no construct tree (2.257.0) makes each pack fail; cdk-nag 3 then offers `validateScope(app)`, run after
 * synth, which reads the same acknowledgements.
 */
function withNag3(app) {
  const packs = [new nag.AwsSolutionsChecks(app), new nag.ServerlessChecks(app)];
  cdk.Validations.of(app).addPlugins(...packs);
  return {
    packs: packs.map((p) => p.name),
    findings: (report) => {
      const failed = packs.filter((p) => report.failures.some((f) => f.plugin === p.name));
      const direct = failed.flatMap((p) => new p.constructor(app).validateScope(app).violations
        .flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath, by: 'validateScope' }))));
      return [...report.violations.filter((v) => packs.some((p) => p.name === v.plugin)), ...direct];
    },
  };
}

/**
 * The validation report synth wrote, in either format: `validation-report.json` (2.258.0 and later) or the
 * legacy `policy-validation-report.json` (the only one of 2.257.0). Violations left after acknowledgements, and
 * the plugins that failed without judging anything (a thrown error).
 */
function readValidationReport(outdir) {
  const file = ['validation-report.json', 'policy-validation-report.json'].map((f) => path.join(outdir, f)).find((f) => fs.existsSync(f));
  if (!file) return { violations: [], failures: [] };
  const reports = JSON.parse(fs.readFileSync(file, 'utf8')).pluginReports ?? [];
  const violations = [];
  const failures = [];
  for (const report of reports) {
    // validation-report.json: { pluginName, conclusion, metadata }; the legacy report: { summary: { pluginName, status, metadata } }.
    const { pluginName: plugin, conclusion = report.summary?.status, metadata } = report.summary ?? report;
    const failed = (report.conclusion ?? conclusion) === 'failure';
    const error = metadata?.error;
    if (failed && report.violations.length === 0) failures.push({ plugin, error: String(error) });
    for (const v of report.violations) {
      for (const c of v.violatingConstructs) {
        violations.push({ plugin, id: v.ruleName, severity: v.severity, path: c.constructPath ?? c.resourceLogicalId, description: v.description });
      }
    }
  }
  return { violations, failures };
}

const configurations = DOCUMENTED_CONFIGURATIONS.map((configuration, index) => {
  const outdir = path.join(outRoot, `configuration-${index}`);
  const context = { '@aws-cdk/core:validationReportJson': true };
  if (DEFAULT_RULES_FLAG) context[DEFAULT_RULES_FLAG] = true;
  const app = new cdk.App({ outdir, context });
  const stack = new cdk.Stack(app, 'UserStack', { env: { account: ACCOUNT, region: REGION } });
  configuration.build(stack, modules);
  const checks = nagMajor >= 3 ? withNag3(app) : withNag2(app);
  try {
    app.synth();
  } catch (error) {
    // Findings left (cdk-nag 3 errors, default rules as errors) fail the synth after the report is written;
    // anything else is a real error.
    if (!['validation-report.json', 'policy-validation-report.json'].some((f) => fs.existsSync(path.join(outdir, f)))) throw error;
  }
  // A plugin that failed sets the exit code of `cdk synth`; each configuration reports it here instead.
  process.exitCode = 0;
  const report = readValidationReport(outdir);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'UserStack.template.json'), 'utf8'));
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((f) => ({
    runtime: f.Properties.Runtime,
    architectures: f.Properties.Architectures,
    handler: f.Properties.Handler,
    assetDir: path.join(outdir, `asset.${f.Properties.Code.S3Key.replace(/\.zip$/, '')}`),
  }));
  // The stack outputs that are attributes of a resource (`Fn::GetAtt`), as `<resource type>.<attribute>`.
  const attributes = Object.fromEntries(Object.entries(template.Outputs ?? {}).map(([id, output]) => {
    const [logicalId, attribute] = output.Value?.['Fn::GetAtt'] ?? [];
    return [id, logicalId ? `${template.Resources[logicalId]?.Type}.${attribute}` : JSON.stringify(output.Value)];
  }));
  return {
    name: configuration.name,
    attributes,
    findings: checks.findings(report).map(({ id, path: p, by }) => ({ id, path: p, ...(by ? { by } : {}) })),
    nagPluginFailures: report.failures.filter((f) => checks.packs.includes(f.plugin)),
    defaultRuleViolations: report.violations.filter((v) => v.plugin === DEFAULT_RULES_PLUGIN),
    otherPluginFailures: report.failures.filter((f) => !checks.packs.includes(f.plugin)),
    functions,
  };
});

/**
 * A control: a template AWS's default rules reject (an SQS retention period under CloudFormation's minimum of
 * 60 s), synthesized the same way, shows that the rules run in this app and report errors, so that a
 * configuration's empty list of default-rule violations means something.
 */
function defaultRulesControl() {
  const outdir = path.join(outRoot, 'default-rules-control');
  const context = { '@aws-cdk/core:validationReportJson': true, ...(DEFAULT_RULES_FLAG ? { [DEFAULT_RULES_FLAG]: true } : {}) };
  const app = new cdk.App({ outdir, context });
  const stack = new cdk.Stack(app, 'ControlStack', { env: { account: ACCOUNT, region: REGION } });
  new cdk.CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: 10 } });
  try {
    app.synth();
  } catch (error) {
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw error;
  }
  process.exitCode = 0;
  return readValidationReport(outdir).violations.filter((v) => v.plugin === DEFAULT_RULES_PLUGIN);
}

console.log(JSON.stringify({
  node: process.version,
  cdkLib: require.resolve('aws-cdk-lib'),
  cdkLibVersion: require('aws-cdk-lib/package.json').version,
  library: require.resolve('cdk-ecs-ops'),
  nag: nagVersion,
  defaultRulesFlag: DEFAULT_RULES_FLAG ?? null,
  defaultRulesControl: defaultRulesControl(),
  // The Node.js runtimes this aws-cdk-lib knows, as `lambda.Runtime.NODEJS_<major>_X`.
  nodejsRuntimes: Object.keys(modules.lambda.Runtime).filter((k) => /^NODEJS_\d+_X$/.test(k)).map((k) => modules.lambda.Runtime[k].name),
  configurations,
}));

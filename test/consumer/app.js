/*
 * A user's CDK app, run by test/consumer/consumer.test.ts in a folder where only the packed cdk-ecs-ops,
 * aws-cdk-lib, constructs and cdk-nag are installed. It synthesizes every documented configuration
 * (./configurations.js, transpiled from test/support/documented-configurations.ts) with cdk-nag's
 * AwsSolutions and Serverless packs, the way the cdk-nag major version installed here is meant to be used,
 * and prints one JSON line: where the modules came from, and per configuration its findings and functions.
 *
 * Usage: node app.js <outdir>
 */
'use strict';
const fs = require('fs');
const path = require('path');
const cdk = require('aws-cdk-lib');
const nag = require('cdk-nag');
const lib = require('cdk-ecs-ops');
const { ACCOUNT, REGION, DOCUMENTED_CONFIGURATIONS } = require('./configurations');

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
const outRoot = process.argv[2];
const nagMajor = Number(require('cdk-nag/package.json').version.split('.')[0]);

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
  return () => {
    app.synth();
    return findings;
  };
}

/** cdk-nag 3: the packs are policy validation plugins; synth fails with a report when a finding is left. */
function withNag3(app, outdir) {
  cdk.Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app), new nag.ServerlessChecks(app));
  const report = path.join(outdir, 'validation-report.json');
  return () => {
    try {
      app.synth();
    } catch (error) {
      // A finding fails the synth after the report is written; anything else is a real error.
      if (!fs.existsSync(report)) throw error;
    }
    if (!fs.existsSync(report)) return [];
    return JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports.flatMap((plugin) => plugin.violations.flatMap(
      (v) => v.violatingConstructs.map((c) => ({ id: v.ruleName, path: c.constructPath }))));
  };
}

const configurations = DOCUMENTED_CONFIGURATIONS.map((configuration, index) => {
  const outdir = path.join(outRoot, `configuration-${index}`);
  const app = new cdk.App({ outdir, context: { '@aws-cdk/core:validationReportJson': true } });
  const stack = new cdk.Stack(app, 'UserStack', { env: { account: ACCOUNT, region: REGION } });
  configuration.build(stack, modules);
  const synth = nagMajor >= 3 ? withNag3(app, outdir) : withNag2(app);
  const findings = synth();
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'UserStack.template.json'), 'utf8'));
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((f) => ({
    runtime: f.Properties.Runtime,
    architectures: f.Properties.Architectures,
    handler: f.Properties.Handler,
    assetDir: path.join(outdir, `asset.${f.Properties.Code.S3Key.replace(/\.zip$/, '')}`),
  }));
  return { name: configuration.name, findings, functions };
});

console.log(JSON.stringify({
  node: process.version,
  cdkLib: require.resolve('aws-cdk-lib'),
  cdkLibVersion: require('aws-cdk-lib/package.json').version,
  library: require.resolve('cdk-ecs-ops'),
  nag: require('cdk-nag/package.json').version,
  configurations,
}));

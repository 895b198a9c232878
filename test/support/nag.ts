/**
 * cdk-nag helpers for construct tests.
 *
 * ```ts
 * const stack = new Stack(new App(), 'Test');
 * new EcsAgentMonitor(stack, 'Monitor', { cluster });
 * expectNoUnacknowledgedNagFindings(stack, [{
 *   ruleId: 'AwsSolutions-IAM5',
 *   scope: 'Monitor/Handler/ServiceRole',
 *   appliesTo: ['Resource::*'],
 *   reason: 'ecs:ListClusters only supports the * resource',
 * }]);
 * ```
 *
 * The AwsSolutions and Serverless packs are applied as Aspects, so they only
 * run when the app is synthesized; the helpers here add them and synthesize in
 * one call. Findings are collected with a cdk-nag logger (structured rule id,
 * finding id, construct path), the same data the packs turn into error and
 * warning annotations.
 *
 * Acknowledgements are matched here rather than turned into `NagSuppressions`,
 * so they leave no `cdk_nag` metadata in the template (and in its snapshot), and
 * an acknowledgement that no longer matches any finding fails the test instead
 * of silently outliving the code it excused.
 *
 * @module
 */
import { Aspects, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  INagLogger,
  NagLoggerComplianceData,
  NagLoggerErrorData,
  NagLoggerNonComplianceData,
  NagLoggerNotApplicableData,
  NagLoggerSuppressedData,
  NagLoggerSuppressedErrorData,
  NagMessageLevel,
  NagPack,
  ServerlessChecks,
} from 'cdk-nag';
import { IConstruct } from 'constructs';

/** Shortest reason an acknowledgement may give. */
export const MIN_REASON_LENGTH = 20;

/** Rule id cdk-nag uses when a rule throws while checking a resource (usually an unresolvable intrinsic). */
export const VALIDATION_FAILURE_RULE_ID = 'CdkNagValidationFailure';

/** One error or warning that a cdk-nag pack reported and nothing suppressed. */
export interface NagFinding {
  /** Rule id with its pack prefix, e.g. `AwsSolutions-IAM5` or `Serverless-LambdaTracing`. */
  readonly ruleId: string;
  /**
   * Granular finding id for rules that report one, e.g. `Resource::*` or
   * `Action::s3:*` for AwsSolutions-IAM5; for a validation failure, the rule
   * that threw. Empty for rules that are not granular.
   */
  readonly findingId: string;
  /** `Error` or `Warning`. */
  readonly level: 'Error' | 'Warning';
  /** Full construct path of the offending CloudFormation resource, e.g. `Test/Role/DefaultPolicy/Resource`. */
  readonly path: string;
  /** Why the rule was triggered (cdk-nag's rule info, or the validation error). */
  readonly message: string;
  /** Why the rule exists (cdk-nag's explanation). */
  readonly explanation: string;
}

/**
 * A finding the test accepts, with the reason why.
 *
 * Matches findings with this `ruleId`, under `scope` if given, and with one of
 * the `appliesTo` finding ids if given.
 */
export interface NagAcknowledgement {
  /** Rule id with its pack prefix, e.g. `AwsSolutions-IAM5`. */
  readonly ruleId: string;
  /** Why the finding is acceptable; at least {@link MIN_REASON_LENGTH} characters. */
  readonly reason: string;
  /**
   * Construct (or construct path) the acknowledgement is limited to; findings
   * on it and on everything below it match. A string path may be absolute
   * (`Test/Monitor/Handler`) or relative to the stack (`Monitor/Handler`).
   * @default - findings anywhere in the stack
   */
  readonly scope?: IConstruct | string;
  /**
   * Granular finding ids the acknowledgement is limited to (AwsSolutions-IAM4/IAM5
   * style), as exact strings (`Resource::*`) or regular expressions
   * (`/^Resource::<Table\w+\.Arn>\/index\/\*$/`). Each entry must match at least one finding.
   * @default - every finding id of the rule
   */
  readonly appliesTo?: ReadonlyArray<string | RegExp>;
}

/** A finding that a `cdk_nag` suppression on its resource (or its stack) covered, with the reason given. */
export interface SuppressedNagFinding extends NagFinding {
  readonly reason: string;
}

/** Findings of a stack, split by the acknowledgements given. */
export interface NagReview {
  /** Findings no acknowledgement covers: these fail {@link expectNoUnacknowledgedNagFindings}. */
  readonly unacknowledged: NagFinding[];
  /** Findings covered by an acknowledgement, with its reason. */
  readonly acknowledged: Array<{ readonly finding: NagFinding; readonly reason: string }>;
  /** Acknowledgements (or `appliesTo` entries of one) that matched no finding: stale, they fail too. */
  readonly unused: string[];
}

/**
 * Collects what the packs report, deduplicated (every synthesis runs the Aspects again).
 */
class FindingCollector implements INagLogger {
  private readonly byKey = new Map<string, NagFinding>();
  private readonly suppressedByKey = new Map<string, SuppressedNagFinding>();

  public get findings(): NagFinding[] {
    return [...this.byKey.values()];
  }

  public get suppressed(): SuppressedNagFinding[] {
    return [...this.suppressedByKey.values()];
  }

  public clear(): void {
    this.byKey.clear();
    this.suppressedByKey.clear();
  }

  public onNonCompliance(data: NagLoggerNonComplianceData): void {
    this.add(data.ruleLevel, data.ruleId, data.findingId, data.resource, data.ruleInfo, data.ruleExplanation);
  }

  public onError(data: NagLoggerErrorData): void {
    // The AnnotationLogger reports a rule that threw as a warning under the validation-failure id.
    this.add(NagMessageLevel.WARN, VALIDATION_FAILURE_RULE_ID, data.ruleId, data.resource, data.errorMessage, data.ruleExplanation);
  }

  public onCompliance(_data: NagLoggerComplianceData): void {}
  public onSuppressed(data: NagLoggerSuppressedData): void {
    const finding: SuppressedNagFinding = {
      ruleId: data.ruleId,
      findingId: data.findingId ?? '',
      level: data.ruleLevel === NagMessageLevel.ERROR ? 'Error' : 'Warning',
      path: data.resource.node.path,
      message: data.ruleInfo.trim(),
      explanation: data.ruleExplanation.trim(),
      reason: data.suppressionReason,
    };
    this.suppressedByKey.set(JSON.stringify([finding.ruleId, finding.findingId, finding.path]), finding);
  }
  public onSuppressedError(_data: NagLoggerSuppressedErrorData): void {}
  public onNotApplicable(_data: NagLoggerNotApplicableData): void {}

  private add(level: NagMessageLevel, ruleId: string, findingId: string, resource: IConstruct, message: string, explanation: string): void {
    if (level !== NagMessageLevel.ERROR && level !== NagMessageLevel.WARN) {
      return;
    }
    const finding: NagFinding = { ruleId, findingId: findingId ?? '', level, path: resource.node.path, message: message.trim(), explanation: explanation.trim() };
    this.byKey.set(JSON.stringify([finding.level, finding.ruleId, finding.findingId, finding.path]), finding);
  }
}

/** The collector of each stack the packs were applied to, so that a second call neither adds the packs twice nor loses findings. */
const collectors = new WeakMap<Stack, FindingCollector>();

function packsFor(collector: FindingCollector): NagPack[] {
  const props = { verbose: true, reports: false, additionalLoggers: [collector] };
  return [new AwsSolutionsChecks(props), new ServerlessChecks(props)];
}

/**
 * Apply the cdk-nag AwsSolutions and Serverless packs to `stack`, synthesize
 * its app, and return every error and warning they report, sorted by path and
 * rule. Findings suppressed with `NagSuppressions` are not returned.
 *
 * Safe to call more than once and after the stack was synthesized: the packs are
 * added once per stack and the app is synthesized again so they run.
 *
 * @example const findings = collectNagFindings(stack); console.log(formatNagFindings(findings));
 */
export function collectNagFindings(stack: Stack): NagFinding[] {
  let collector = collectors.get(stack);
  if (!collector) {
    collector = new FindingCollector();
    collectors.set(stack, collector);
    for (const pack of packsFor(collector)) {
      Aspects.of(stack).add(pack);
    }
  }
  const stage = Stage.of(stack);
  if (!stage) {
    throw new Error(`collectNagFindings: stack ${stack.node.path} is not part of an App or Stage, so it cannot be synthesized`);
  }
  collector.clear();
  // force: a stage that was synthesized before returns its cached assembly without running the (new) Aspects.
  stage.synth({ force: true });
  return collector.findings.sort(compareFindings);
}

/**
 * What the packs reported for `stack` at its last {@link collectNagFindings}: the findings a `cdk_nag`
 * suppression covered (the constructs' own acknowledgements among them), with their reasons.
 */
export function collectSuppressedNagFindings(stack: Stack): SuppressedNagFinding[] {
  collectNagFindings(stack);
  return collectors.get(stack)!.suppressed.sort(compareFindings);
}

/** One `cdk_nag` acknowledgement a construct wrote on a resource: rule, finding id (if granular), reason. */
export interface WrittenNagAcknowledgement {
  readonly path: string;
  readonly ruleId: string;
  readonly findingId?: string;
  readonly reason: string;
}

/** Every acknowledgement written as `cdk_nag` metadata on the resources of `stack`, one per finding id. */
export function writtenNagAcknowledgements(stack: Stack): WrittenNagAcknowledgement[] {
  return stack.node.findAll().filter(CfnResource.isCfnResource).flatMap((resource) => {
    const rules: Array<{ id: string; reason: string; applies_to?: string[] }> = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
    return rules.flatMap((rule) => (rule.applies_to ?? [undefined]).map((findingId) => ({
      path: resource.node.path, ruleId: rule.id, findingId, reason: rule.reason,
    })));
  });
}

/**
 * The written acknowledgements that covered no finding: stale, or not naming the finding exactly.
 * Runs the packs (see {@link collectNagFindings}).
 */
export function unusedNagAcknowledgements(stack: Stack): WrittenNagAcknowledgement[] {
  const suppressed = collectSuppressedNagFindings(stack);
  return writtenNagAcknowledgements(stack).filter((ack) => !suppressed.some((f) =>
    f.path === ack.path && f.ruleId === ack.ruleId && (ack.findingId === undefined || f.findingId === ack.findingId)));
}

function compareFindings(a: NagFinding, b: NagFinding): number {
  return a.path.localeCompare(b.path) || a.ruleId.localeCompare(b.ruleId) || a.findingId.localeCompare(b.findingId);
}

/**
 * Check acknowledgements for mistakes and throw one error listing all of them:
 * a missing or short reason, an empty rule id, an empty `appliesTo` list.
 *
 * @example validateNagAcknowledgements([{ ruleId: 'AwsSolutions-IAM5', reason: 'x' }]) // throws: reason too short
 */
export function validateNagAcknowledgements(acknowledgements: readonly NagAcknowledgement[]): void {
  const problems: string[] = [];
  acknowledgements.forEach((ack, index) => {
    const name = `acknowledgements[${index}] (${ack.ruleId || '<no ruleId>'})`;
    if (typeof ack.ruleId !== 'string' || ack.ruleId.trim() === '') {
      problems.push(`${name}: ruleId is empty; give the rule id with its pack prefix, e.g. 'AwsSolutions-IAM5'`);
    }
    const reason = typeof ack.reason === 'string' ? ack.reason.trim() : '';
    if (reason.length < MIN_REASON_LENGTH) {
      problems.push(`${name}: reason ${JSON.stringify(ack.reason ?? null)} is ${reason.length} characters; `
        + `write why the finding is acceptable in at least ${MIN_REASON_LENGTH} characters`);
    }
    if (ack.appliesTo !== undefined && ack.appliesTo.length === 0) {
      problems.push(`${name}: appliesTo is an empty list; leave it out to cover every finding id of the rule`);
    }
    if (typeof ack.scope === 'string' && ack.scope.trim() === '') {
      problems.push(`${name}: scope is an empty string; leave it out to cover the whole stack`);
    }
  });
  if (problems.length > 0) {
    throw new Error(`Invalid cdk-nag acknowledgements:\n  - ${problems.join('\n  - ')}`);
  }
}

function scopePath(stack: Stack, scope: IConstruct | string): string {
  if (typeof scope !== 'string') {
    return scope.node.path;
  }
  const trimmed = scope.replace(/^\/+|\/+$/g, '');
  const stackPath = stack.node.path;
  return trimmed === stackPath || trimmed.startsWith(`${stackPath}/`) ? trimmed : `${stackPath}/${trimmed}`;
}

function appliesToLabel(entry: string | RegExp): string {
  return typeof entry === 'string' ? JSON.stringify(entry) : entry.toString();
}

function appliesToMatches(entry: string | RegExp, findingId: string): boolean {
  if (typeof entry === 'string') {
    return entry === findingId;
  }
  entry.lastIndex = 0; // a /g or /y expression keeps state between test() calls
  return entry.test(findingId);
}

/**
 * Split `findings` into the acknowledged and the unacknowledged ones, and list
 * the acknowledgements that matched nothing. Validates the acknowledgements first.
 *
 * @example const review = reviewNagFindings(stack, collectNagFindings(stack), acks); review.unacknowledged.length
 */
export function reviewNagFindings(stack: Stack, findings: readonly NagFinding[], acknowledgements: readonly NagAcknowledgement[] = []): NagReview {
  validateNagAcknowledgements(acknowledgements);
  const rules = acknowledgements.map((ack) => ({
    ack,
    scope: ack.scope === undefined ? undefined : scopePath(stack, ack.scope),
    used: false,
    usedEntries: new Set<number>(),
  }));

  const unacknowledged: NagFinding[] = [];
  const acknowledged: Array<{ finding: NagFinding; reason: string }> = [];
  for (const finding of findings) {
    let reason: string | undefined;
    for (const rule of rules) {
      if (rule.ack.ruleId !== finding.ruleId) continue;
      if (rule.scope !== undefined && finding.path !== rule.scope && !finding.path.startsWith(`${rule.scope}/`)) continue;
      if (rule.ack.appliesTo) {
        const entry = rule.ack.appliesTo.findIndex((e) => appliesToMatches(e, finding.findingId));
        if (entry < 0) continue;
        rule.usedEntries.add(entry);
      }
      rule.used = true;
      reason ??= rule.ack.reason.trim();
    }
    if (reason === undefined) {
      unacknowledged.push(finding);
    } else {
      acknowledged.push({ finding, reason });
    }
  }

  const unused: string[] = [];
  for (const rule of rules) {
    const where = rule.scope ? ` on ${rule.scope}` : '';
    if (!rule.used) {
      unused.push(`${rule.ack.ruleId}${where}: matched no finding (reason: "${rule.ack.reason.trim()}")`);
      continue;
    }
    rule.ack.appliesTo?.forEach((entry, index) => {
      if (!rule.usedEntries.has(index)) {
        unused.push(`${rule.ack.ruleId}${where}: appliesTo ${appliesToLabel(entry)} matched no finding`);
      }
    });
  }
  return { unacknowledged, acknowledged, unused };
}

/**
 * One line per finding: `[Error] AwsSolutions-IAM5[Resource::*] at Test/Role/DefaultPolicy/Resource: <message>`.
 *
 * @example console.log(formatNagFindings(collectNagFindings(stack)));
 */
export function formatNagFindings(findings: readonly NagFinding[]): string {
  return findings
    .map((f) => `[${f.level}] ${f.ruleId}${f.findingId ? `[${f.findingId}]` : ''} at ${f.path}: ${f.message.replace(/\s*\n\s*/g, ' ')}`)
    .join('\n');
}

/**
 * Apply the cdk-nag AwsSolutions and Serverless packs to `stack`, synthesize
 * it, and throw an error that lists every error or warning not covered by one
 * of `acknowledgements` (rule id, finding id, construct path, message), and
 * every acknowledgement that matched nothing.
 *
 * Throws before synthesizing if an acknowledgement is invalid (see
 * {@link validateNagAcknowledgements}).
 *
 * @returns the review, so a test can also assert on what was acknowledged
 * @example expectNoUnacknowledgedNagFindings(stack, [{ ruleId: 'AwsSolutions-IAM4', scope: 'Handler', reason: 'AWSLambdaBasicExecutionRole only grants logs' }]);
 */
export function expectNoUnacknowledgedNagFindings(stack: Stack, acknowledgements: readonly NagAcknowledgement[] = []): NagReview {
  validateNagAcknowledgements(acknowledgements);
  const review = reviewNagFindings(stack, collectNagFindings(stack), acknowledgements);
  const sections: string[] = [];
  if (review.unacknowledged.length > 0) {
    sections.push(`${review.unacknowledged.length} unacknowledged cdk-nag finding(s) in ${stack.node.path}:\n`
      + indent(formatNagFindings(review.unacknowledged))
      + '\nFix them, or acknowledge each with { ruleId, scope, appliesTo, reason }.');
  }
  if (review.unused.length > 0) {
    sections.push(`${review.unused.length} acknowledgement(s) matched no finding; remove them:\n${indent(review.unused.join('\n'))}`);
  }
  if (sections.length > 0) {
    throw new Error(sections.join('\n\n'));
  }
  return review;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  - ${line}`).join('\n');
}

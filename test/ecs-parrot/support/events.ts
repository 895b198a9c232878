/**
 * ECS events for the EcsParrot tests, built from the real payloads in test/fixtures/aws: each builder copies a
 * fixture and sets only fields that fixture (or, for a stopped container, ECS's documented `reason`) has, so the
 * shapes stay the ones AWS sends. And the SQS records Lambda's event source mapping delivers them in.
 */
import { createHash } from 'crypto';
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:ecs-parrot-events`;

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'aws');

/** A fixture, parsed. */
export function fixture(relative: string): any {
  return JSON.parse(readFileSync(path.join(FIXTURES, relative), 'utf8'));
}

/** Every EventBridge fixture (`eventbridge-ecs/*.json`), by file name. */
export function eventBridgeFixtures(): Array<{ name: string; event: any }> {
  const dir = path.join(FIXTURES, 'eventbridge-ecs');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((name) => ({ name, event: fixture(`eventbridge-ecs/${name}`) }));
}

/** Every CloudTrail record fixture (`cloudtrail-ecs/*.json`), by file name. */
export function cloudTrailFixtures(): Array<{ name: string; record: any }> {
  const dir = path.join(FIXTURES, 'cloudtrail-ecs');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((name) => ({ name, record: fixture(`cloudtrail-ecs/${name}`) }));
}

/** A deterministic hex id from a seed. */
export function hexId(seed: string, length = 32): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** A deterministic EventBridge event id from a seed. */
function eventId(seed: string): string {
  const h = hexId(`event:${seed}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const iso = (t: Date) => t.toISOString();
/** EventBridge's `time`: whole seconds. */
const envelopeTime = (t: Date) => `${t.toISOString().slice(0, 19)}Z`;

export interface ContainerSpec {
  readonly name: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly image?: string;
}

export interface TaskSpec {
  readonly cluster?: string;
  /** The task id (32 hex). */
  readonly taskId: string;
  /** `service:<name>` or `family:<name>`. */
  readonly group: string;
  /** `family:revision`. */
  readonly taskDefinition: string;
  readonly lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';
  readonly desiredStatus?: 'RUNNING' | 'STOPPED';
  readonly containers: readonly ContainerSpec[];
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly startedBy?: string;
  readonly containerInstanceId?: string;
  readonly createdAt: Date;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
  /** When the event happened. */
  readonly at: Date;
  /** `detail.version`. */
  readonly version: number;
  /** Fargate (no container instance) instead of EC2. */
  readonly fargate?: boolean;
}

/** An `ECS Task State Change` in the shape of the EC2 fixtures (STOPPED from the AWS sample, others from the 2025 docs example). */
export function taskEvent(spec: TaskSpec): any {
  const cluster = spec.cluster ?? 'prod';
  const stopped = spec.lastStatus === 'STOPPED';
  const event = structuredClone(stopped
    ? fixture('eventbridge-ecs/task-state-change-ec2-stopped-user-initiated.json')
    : fixture('eventbridge-ecs/task-state-change-ec2-running-2025.json'));
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${spec.taskId}`;
  const d = event.detail;
  event.id = eventId(`${taskArn}:${spec.version}`);
  event.account = ACCOUNT;
  event.region = REGION;
  event.time = envelopeTime(spec.at);
  event.resources = [taskArn];
  d.clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
  d.taskArn = taskArn;
  d.taskDefinitionArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${spec.taskDefinition}`;
  d.group = spec.group;
  d.lastStatus = spec.lastStatus;
  d.desiredStatus = spec.desiredStatus ?? (stopped ? 'STOPPED' : 'RUNNING');
  d.createdAt = iso(spec.createdAt);
  d.updatedAt = iso(spec.at);
  d.version = spec.version;
  d.availabilityZone = `${REGION}a`;
  if (spec.fargate) {
    delete d.containerInstanceArn;
    d.launchType = 'FARGATE';
    d.capacityProviderName = 'FARGATE';
  } else {
    d.containerInstanceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${spec.containerInstanceId ?? hexId(`ci:${cluster}:0`)}`;
    d.launchType = 'EC2';
    d.capacityProviderName = `${cluster}-asg-capacity-provider`;
  }
  if (spec.startedBy !== undefined) d.startedBy = spec.startedBy;
  else delete d.startedBy;
  if (spec.startedAt) {
    d.startedAt = iso(spec.startedAt);
    d.pullStartedAt = iso(new Date(spec.startedAt.getTime() - 8000));
    d.pullStoppedAt = iso(new Date(spec.startedAt.getTime() - 2000));
    d.connectivityAt = iso(spec.createdAt);
  } else {
    for (const key of ['startedAt', 'pullStartedAt', 'pullStoppedAt']) delete d[key];
  }
  if (stopped) {
    const stoppedAt = spec.stoppedAt ?? spec.at;
    d.stoppingAt = iso(new Date(stoppedAt.getTime() - 15_000));
    d.executionStoppedAt = iso(new Date(stoppedAt.getTime() - 1_000));
    d.stoppedAt = iso(stoppedAt);
    d.stopCode = spec.stopCode ?? 'EssentialContainerExited';
    d.stoppedReason = spec.stoppedReason ?? 'Essential container in task exited';
  }
  // A container of the fixture as the template: the stopped fixture's first, the running fixture's second.
  const template = d.containers[stopped ? 0 : 1];
  d.containers = spec.containers.map((c, i) => {
    const container = structuredClone(template);
    container.containerArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container/${cluster}/${spec.taskId}/${hexId(`${spec.taskId}:${i}`, 8)}`;
    container.taskArn = taskArn;
    container.name = c.name;
    container.image = c.image ?? `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${c.name}:${spec.taskDefinition.split(':')[1]}`;
    if (stopped) {
      container.lastStatus = 'STOPPED';
      container.runtimeId = hexId(`${spec.taskId}:${c.name}:runtime`, 64);
      // ECS leaves out exitCode when a container never ran, and reason unless it has one.
      if (c.exitCode === undefined) delete container.exitCode;
      else container.exitCode = c.exitCode;
      if (c.reason !== undefined) container.reason = c.reason;
    } else {
      container.lastStatus = spec.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING';
      if (spec.lastStatus !== 'RUNNING') delete container.runtimeId;
    }
    return container;
  });
  d.overrides = { containerOverrides: spec.containers.map((c) => ({ name: c.name })) };
  return event;
}

/**
 * A service's ARN: `service/<cluster>/<name>`, or with `shortArn` the older format `service/<name>` that services
 * created before the long ARN format still have (it names no cluster).
 */
function serviceArnOf(cluster: string, service: string, shortArn = false): string {
  return `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${shortArn ? '' : `${cluster}/`}${service}`;
}

/** An `ECS Deployment State Change` (from the docs' completed event). */
export function deploymentEvent(spec: {
  cluster?: string; service: string; eventName: string; eventType: 'INFO' | 'ERROR'; deploymentId: string; reason: string; at: Date; shortArn?: boolean;
}): any {
  const event = structuredClone(fixture('eventbridge-ecs/deployment-state-change-completed.json'));
  const serviceArn = serviceArnOf(spec.cluster ?? 'prod', spec.service, spec.shortArn);
  event.id = eventId(`${serviceArn}:${spec.deploymentId}:${spec.eventName}:${spec.reason}`);
  event.account = ACCOUNT;
  event.region = REGION;
  event.time = envelopeTime(spec.at);
  event.resources = [serviceArn];
  Object.assign(event.detail, {
    eventType: spec.eventType, eventName: spec.eventName, deploymentId: spec.deploymentId, updatedAt: iso(spec.at), reason: spec.reason,
  });
  return event;
}

/** An `ECS Service Action` (from the docs' task placement failure event). */
export function serviceActionEvent(spec: {
  cluster?: string; service: string; eventName: string; eventType: 'INFO' | 'WARN' | 'ERROR'; reason?: string; at: Date; shortArn?: boolean;
}): any {
  const event = structuredClone(fixture('eventbridge-ecs/service-action-task-placement-failure-ec2-cpu.json'));
  const cluster = spec.cluster ?? 'prod';
  const serviceArn = serviceArnOf(cluster, spec.service, spec.shortArn);
  event.id = eventId(`${serviceArn}:${spec.eventName}:${iso(spec.at)}`);
  event.account = ACCOUNT;
  event.region = REGION;
  event.time = envelopeTime(spec.at);
  event.resources = [serviceArn];
  const d = event.detail;
  d.eventType = spec.eventType;
  d.eventName = spec.eventName;
  d.clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
  d.createdAt = iso(spec.at);
  if (spec.reason) d.reason = spec.reason;
  else delete d.reason;
  if (spec.eventName !== 'SERVICE_TASK_PLACEMENT_FAILURE') delete d.containerInstanceArns;
  return event;
}

/** An `ECS Container Instance State Change` (from the docs' example). */
export function containerInstanceEvent(spec: {
  cluster?: string; id: string; ec2InstanceId: string; status: string; agentConnected: boolean; version: number; at: Date; agentUpdateStatus?: string;
}): any {
  const event = structuredClone(fixture('eventbridge-ecs/container-instance-state-change-active.json'));
  const cluster = spec.cluster ?? 'prod';
  const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${spec.id}`;
  event.id = eventId(`${arn}:${spec.version}`);
  event.account = ACCOUNT;
  event.region = REGION;
  event.time = envelopeTime(spec.at);
  event.resources = [arn];
  const d = event.detail;
  d.clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
  d.containerInstanceArn = arn;
  d.ec2InstanceId = spec.ec2InstanceId;
  d.status = spec.status;
  d.agentConnected = spec.agentConnected;
  d.version = spec.version;
  d.updatedAt = iso(spec.at);
  if (spec.agentUpdateStatus) d.agentUpdateStatus = spec.agentUpdateStatus;
  return event;
}

/**
 * An `AWS API Call via CloudTrail` event: the CloudTrail record fixture as `detail`, in the envelope EventBridge
 * puts around it (EventBridge User Guide, "Events from AWS services delivered via AWS CloudTrail").
 */
export function apiCallEvent(spec: {
  eventName: string; requestParameters: Record<string, unknown>; at: Date; errorCode?: string; errorMessage?: string; user?: string; seed?: string;
}): any {
  const record = structuredClone(fixture('cloudtrail-ecs/cloudtrail-record-create-cluster.json'));
  record.eventName = spec.eventName;
  record.eventTime = envelopeTime(spec.at);
  record.requestParameters = spec.requestParameters;
  record.responseElements = null;
  record.eventID = eventId(`cloudtrail:${spec.seed ?? ''}:${spec.eventName}:${iso(spec.at)}`);
  record.eventVersion = '1.08';
  if (spec.user) {
    record.userIdentity.arn = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/${spec.user}`;
    record.userIdentity.sessionContext.sessionIssuer.userName = 'Admin';
  }
  if (spec.errorCode) {
    record.errorCode = spec.errorCode;
    record.errorMessage = spec.errorMessage ?? spec.errorCode;
  }
  return wrapCloudTrailRecord(record);
}

/** A raw CloudTrail record in EventBridge's envelope. */
export function wrapCloudTrailRecord(record: any): any {
  return {
    'version': '0',
    'id': eventId(`envelope:${record.eventID}`),
    'detail-type': 'AWS API Call via CloudTrail',
    'source': 'aws.ecs',
    'account': record.recipientAccountId,
    'time': record.eventTime,
    'region': record.awsRegion,
    'resources': [],
    'detail': record,
  };
}

/** One SQS record as the event source mapping delivers it, the event as its body. */
export function sqsRecord(event: unknown, messageId: string, receiveCount = 1, body?: string): SQSRecord {
  const text = body ?? JSON.stringify(event);
  const sent = String(Date.now());
  return {
    messageId,
    receiptHandle: `AQEB${hexId(`receipt:${messageId}:${receiveCount}`, 40)}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: sent,
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: REGION,
  };
}

/** An SQS batch of events, message ids `m-<n>`. */
export function sqsBatch(events: readonly unknown[], firstId = 0): SQSEvent {
  return { Records: events.map((e, i) => sqsRecord(e, `m-${firstId + i}`)) };
}

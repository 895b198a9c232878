/**
 * Auto Scaling command handlers of the fake fleet.
 *
 * Limits follow the Amazon EC2 Auto Scaling API Reference: DescribeAutoScalingInstances takes
 * at most 50 InstanceIds and MaxRecords 1-50 (default 50), unknown ids are ignored;
 * DescribeAutoScalingGroups takes MaxRecords 1-100 (default 50) and at most MaxRecords names,
 * unknown names are ignored; DetachInstances takes at most 20 ids; DescribeLaunchConfigurations takes at most
 * 50 names and MaxRecords 1-100 (default 50), unknown names are ignored.
 */
import type { Activity, AutoScalingGroup, AutoScalingInstanceDetails } from '@aws-sdk/client-auto-scaling';
import { autoScalingInvalidNextToken, autoScalingValidationError } from './errors';
import { CallContext, CommandHandler, FleetState, paginate } from './state';
import type { AsgInstanceState, AutoScalingGroupState } from './types';

function lengthError(field: string, max: number, value: unknown): Error {
  return autoScalingValidationError(
    `1 validation error detected: Value '${JSON.stringify(value)}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
  );
}

function launchTemplate(group: AutoScalingGroupState) {
  return {
    LaunchTemplateId: group.launchTemplateId ?? `lt-${group.groupId.replace(/-/g, '').slice(0, 17)}`,
    LaunchTemplateName: group.launchTemplateName,
    Version: group.launchTemplateVersion ?? '$Latest',
  };
}

/** What a group (or one of its instances) launches from: its launch template, or its launch configuration. */
function launchSource(group: AutoScalingGroupState) {
  return group.launchConfigurationName !== undefined
    ? { LaunchConfigurationName: group.launchConfigurationName }
    : { LaunchTemplate: launchTemplate(group) };
}

function groupContext(state: FleetState, group: AutoScalingGroupState) {
  return state.tagContext(group.tags, 'autoscaling');
}

/** DescribeAutoScalingGroups shape of a group. */
export function toAutoScalingGroup(group: AutoScalingGroupState): AutoScalingGroup {
  return {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: group.arn,
    ...launchSource(group),
    MinSize: group.minSize,
    MaxSize: group.maxSize,
    DesiredCapacity: group.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: [...group.availabilityZones],
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: group.healthCheckType,
    HealthCheckGracePeriod: group.healthCheckGracePeriod,
    Instances: group.instances.map((i) => ({
      InstanceId: i.instanceId,
      InstanceType: i.instanceType,
      AvailabilityZone: i.availabilityZone,
      LifecycleState: i.lifecycleState,
      HealthStatus: i.healthStatus,
      ...launchSource(group),
      ProtectedFromScaleIn: i.protectedFromScaleIn,
    })),
    CreatedTime: new Date(group.createdAt.getTime()),
    SuspendedProcesses: [],
    VPCZoneIdentifier: group.availabilityZones.map((_, n) => `subnet-0${(n + 1).toString().padStart(16, '0')}`).join(','),
    EnabledMetrics: [],
    Tags: Object.entries(group.tags).map(([Key, Value]) => ({
      ResourceId: group.name,
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: true,
    })),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    CapacityRebalance: false,
    TrafficSources: [],
  };
}

/** DescribeAutoScalingInstances shape (note: HealthStatus is upper case here, `HEALTHY`/`UNHEALTHY`, as AWS returns it). */
export function toAutoScalingInstance(group: AutoScalingGroupState, i: AsgInstanceState): AutoScalingInstanceDetails {
  return {
    InstanceId: i.instanceId,
    InstanceType: i.instanceType,
    AutoScalingGroupName: group.name,
    AvailabilityZone: i.availabilityZone,
    LifecycleState: i.lifecycleState,
    HealthStatus: i.healthStatus.toUpperCase(),
    ...launchSource(group),
    ProtectedFromScaleIn: i.protectedFromScaleIn,
  };
}

function activity(state: FleetState, group: AutoScalingGroupState, member: AsgInstanceState, verb: 'Terminating' | 'Detaching', cause: string): Activity {
  return {
    ActivityId: state.uuid(),
    AutoScalingGroupName: group.name,
    Description: `${verb} EC2 instance: ${member.instanceId}`,
    Cause: cause,
    StartTime: state.now,
    StatusCode: 'InProgress',
    Progress: 0,
    Details: JSON.stringify({ 'Subnet ID': 'subnet-00000000000000001', 'Availability Zone': member.availabilityZone }),
  };
}

function requireMember(state: FleetState, instanceId: string | undefined, ctx: CallContext, action: string) {
  const found = instanceId ? state.findGroupOfInstance(instanceId) : undefined;
  ctx.authorize(action, found?.group.arn ?? '*', found ? groupContext(state, found.group) : {});
  if (!found) throw autoScalingValidationError(`Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
  return found;
}

function describeAutoScalingInstances(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('autoscaling:DescribeAutoScalingInstances', '*');
  const ids: string[] | undefined = input.InstanceIds;
  if (ids && ids.length > 50) throw lengthError('instanceIds', 50, ids);
  const all: AutoScalingInstanceDetails[] = [];
  for (const group of state.autoScalingGroups.values()) {
    for (const i of group.instances) {
      if (!ids || ids.includes(i.instanceId)) all.push(toAutoScalingInstance(group, i));
    }
  }
  all.sort((a, b) => a.InstanceId!.localeCompare(b.InstanceId!));
  const { page, nextToken } = paginate(all, {
    maxResults: input.MaxRecords,
    defaultSize: 50,
    limit: 50,
    token: input.NextToken,
    scope: `DescribeAutoScalingInstances:${JSON.stringify(ids ?? null)}`,
    invalid: (what) => (what === 'token' ? autoScalingInvalidNextToken() : autoScalingValidationError('MaxRecords must be between 1 and 50.')),
  });
  return { AutoScalingInstances: page, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function matchesFilters(group: AutoScalingGroupState, filters: Array<{ Name?: string; Values?: string[] }>): boolean {
  return filters.every((f) => {
    const values = f.Values ?? [];
    if (f.Name === 'tag-key') return Object.keys(group.tags).some((k) => values.includes(k));
    if (f.Name === 'tag-value') return Object.values(group.tags).some((v) => values.includes(v));
    if (f.Name?.startsWith('tag:')) {
      const v = group.tags[f.Name.slice(4)];
      return v !== undefined && values.includes(v);
    }
    throw autoScalingValidationError(`Filter name ${f.Name} is not valid.`);
  });
}

function describeAutoScalingGroups(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('autoscaling:DescribeAutoScalingGroups', '*');
  const names: string[] | undefined = input.AutoScalingGroupNames;
  const max = input.MaxRecords ?? 50;
  if (names && names.length > max) {
    throw autoScalingValidationError(`The number of group names (${names.length}) exceeds MaxRecords (${max}).`);
  }
  const groups = [...state.autoScalingGroups.values()]
    .filter((g) => !names || names.includes(g.name))
    .filter((g) => matchesFilters(g, input.Filters ?? []))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(toAutoScalingGroup);
  const { page, nextToken } = paginate(groups, {
    maxResults: input.MaxRecords,
    defaultSize: 50,
    limit: 100,
    token: input.NextToken,
    scope: `DescribeAutoScalingGroups:${JSON.stringify([names ?? null, input.Filters ?? null])}`,
    invalid: (what) => (what === 'token' ? autoScalingInvalidNextToken() : autoScalingValidationError('MaxRecords must be between 1 and 100.')),
  });
  return { AutoScalingGroups: page, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function describeLaunchConfigurations(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('autoscaling:DescribeLaunchConfigurations', '*');
  const names: string[] | undefined = input.LaunchConfigurationNames;
  if (names && names.length > 50) throw lengthError('launchConfigurationNames', 50, names);
  const configurations = [...state.launchConfigurations.values()]
    .filter((lc) => !names || names.includes(lc.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((lc) => ({
      LaunchConfigurationName: lc.name,
      LaunchConfigurationARN: lc.arn,
      ImageId: lc.imageId,
      InstanceType: lc.instanceType,
      KeyName: '',
      SecurityGroups: [],
      UserData: '',
      BlockDeviceMappings: [],
      InstanceMonitoring: { Enabled: true },
      EbsOptimized: false,
      CreatedTime: new Date(lc.createdAt.getTime()),
    }));
  const { page, nextToken } = paginate(configurations, {
    maxResults: input.MaxRecords,
    defaultSize: 50,
    limit: 100,
    token: input.NextToken,
    scope: `DescribeLaunchConfigurations:${JSON.stringify(names ?? null)}`,
    invalid: (what) => (what === 'token' ? autoScalingInvalidNextToken() : autoScalingValidationError('MaxRecords must be between 1 and 100.')),
  });
  return { LaunchConfigurations: page, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function setInstanceHealth(state: FleetState, input: any, ctx: CallContext) {
  const { group, member } = requireMember(state, input.InstanceId, ctx, 'autoscaling:SetInstanceHealth');
  if (input.HealthStatus !== 'Healthy' && input.HealthStatus !== 'Unhealthy') {
    throw autoScalingValidationError(`Valid health statuses are Healthy and Unhealthy, not ${input.HealthStatus}.`);
  }
  // By default the call respects the group's health check grace period: within it, an
  // Unhealthy report is ignored (an assumption: AWS documents that the period is respected,
  // not what the call returns; it returns an empty result either way here).
  const inGrace = state.now.getTime() < member.launchedAt.getTime() + group.healthCheckGracePeriod * 1000;
  if (input.ShouldRespectGracePeriod !== false && inGrace && input.HealthStatus === 'Unhealthy') return {};
  member.healthStatus = input.HealthStatus;
  return {};
}

function terminateInstanceInAutoScalingGroup(state: FleetState, input: any, ctx: CallContext) {
  const { group, member } = requireMember(state, input.InstanceId, ctx, 'autoscaling:TerminateInstanceInAutoScalingGroup');
  if (input.ShouldDecrementDesiredCapacity === undefined) {
    throw autoScalingValidationError('ShouldDecrementDesiredCapacity is required.');
  }
  const from = group.desiredCapacity;
  if (input.ShouldDecrementDesiredCapacity) {
    if (group.desiredCapacity <= group.minSize) {
      throw autoScalingValidationError(
        `Currently, desiredCapacity (${group.desiredCapacity}) and minSize (${group.minSize}) are equal, so the desired capacity cannot be decremented.`,
      );
    }
    group.desiredCapacity -= 1;
  }
  member.lifecycleState = 'Terminating';
  const ec2 = state.ec2Instances.get(member.instanceId);
  if (ec2 && ec2.state !== 'terminated') ec2.state = 'shutting-down';
  const cause = `At ${state.now.toISOString()} instance ${member.instanceId} was taken out of service in response to a user request`
    + (input.ShouldDecrementDesiredCapacity ? `, shrinking the capacity from ${from} to ${group.desiredCapacity}.` : '.');
  return { Activity: activity(state, group, member, 'Terminating', cause) };
}

function detachInstances(state: FleetState, input: any, ctx: CallContext) {
  const group = state.autoScalingGroups.get(input.AutoScalingGroupName);
  ctx.authorize('autoscaling:DetachInstances', group?.arn ?? '*', group ? groupContext(state, group) : {});
  const ids: string[] = input.InstanceIds ?? [];
  if (ids.length > 20) throw lengthError('instanceIds', 20, ids);
  if (!group) throw autoScalingValidationError(`AutoScalingGroup name not found - AutoScalingGroup '${input.AutoScalingGroupName}' not found`);
  if (input.ShouldDecrementDesiredCapacity === undefined) throw autoScalingValidationError('ShouldDecrementDesiredCapacity is required.');
  const members = ids.map((id) => {
    const m = group.instances.find((i) => i.instanceId === id);
    if (!m) throw autoScalingValidationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
    if (m.lifecycleState !== 'InService' && m.lifecycleState !== 'Standby') {
      throw autoScalingValidationError(`The instance ${id} is not in InService or Standby.`);
    }
    return m;
  });
  const from = group.desiredCapacity;
  if (input.ShouldDecrementDesiredCapacity) {
    if (group.desiredCapacity - members.length < group.minSize) {
      throw autoScalingValidationError(`Detaching ${members.length} instance(s) with ShouldDecrementDesiredCapacity would take desired capacity below minSize (${group.minSize}).`);
    }
    group.desiredCapacity -= members.length;
  }
  const activities: Activity[] = [];
  for (const m of members) {
    group.instances.splice(group.instances.indexOf(m), 1);
    const ec2 = state.ec2Instances.get(m.instanceId);
    if (ec2) delete ec2.tags['aws:autoscaling:groupName'];
    const cause = `At ${state.now.toISOString()} instance ${m.instanceId} was detached in response to a user request`
      + (input.ShouldDecrementDesiredCapacity ? `, shrinking the capacity from ${from} to ${group.desiredCapacity}.` : '.');
    activities.push(activity(state, group, m, 'Detaching', cause));
  }
  return { Activities: activities };
}

/** Auto Scaling handlers by command name (without the `Command` suffix). */
export const AUTOSCALING_HANDLERS: Record<string, CommandHandler> = {
  DescribeAutoScalingInstances: describeAutoScalingInstances,
  DescribeAutoScalingGroups: describeAutoScalingGroups,
  DescribeLaunchConfigurations: describeLaunchConfigurations,
  SetInstanceHealth: setInstanceHealth,
  TerminateInstanceInAutoScalingGroup: terminateInstanceInAutoScalingGroup,
  DetachInstances: detachInstances,
};

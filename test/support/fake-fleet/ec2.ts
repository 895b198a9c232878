/**
 * EC2 command handlers of the fake fleet (DescribeInstances, TerminateInstances, DescribeLaunchTemplateVersions).
 *
 * As in the EC2 API Reference: an unknown instance id fails the whole call with
 * `InvalidInstanceID.NotFound`, a malformed one with `InvalidInstanceID.Malformed`;
 * MaxResults is 5-1000 and cannot be combined with InstanceIds. DescribeLaunchTemplateVersions needs exactly one of
 * LaunchTemplateId and LaunchTemplateName with Versions (`$Latest`, `$Default` or numbers); an unknown template fails
 * with `InvalidLaunchTemplateId.NotFound` / `InvalidLaunchTemplateName.NotFoundException`, an unknown version with
 * `InvalidLaunchTemplateId.VersionNotFound`; MaxResults is 1-200.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import { ec2Error } from './errors';
import { CallContext, CommandHandler, FleetState, paginate } from './state';
import type { Ec2InstanceState, Ec2StateName } from './types';

/** EC2 state codes. */
export const EC2_STATE_CODES: Record<Ec2StateName, number> = {
  'pending': 0,
  'running': 16,
  'shutting-down': 32,
  'terminated': 48,
  'stopping': 64,
  'stopped': 80,
};

function ec2State(name: Ec2StateName) {
  return { Code: EC2_STATE_CODES[name], Name: name };
}

/** DescribeInstances shape of an instance. */
export function toEc2Instance(_state: FleetState, i: Ec2InstanceState): Instance {
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    InstanceType: i.instanceType as Instance['InstanceType'],
    LaunchTime: new Date(i.launchTime.getTime()),
    Placement: { AvailabilityZone: i.availabilityZone, Tenancy: 'default' },
    PrivateIpAddress: i.privateIpAddress,
    PrivateDnsName: `ip-${i.privateIpAddress.replace(/\./g, '-')}.ec2.internal`,
    State: ec2State(i.state),
    Architecture: i.architecture,
    Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
    IamInstanceProfile: { Arn: i.instanceProfileArn, Id: 'AIPA0000000000EXAMPLE' },
    Monitoring: { State: 'disabled' },
  };
}

function checkIds(state: FleetState, ids: string[]): Ec2InstanceState[] {
  const malformed = ids.filter((id) => !/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id));
  if (malformed.length > 0) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`);
  const missing = ids.filter((id) => !state.ec2Instances.has(id));
  if (missing.length === 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  if (missing.length > 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  return ids.map((id) => state.ec2Instances.get(id)!);
}

function matches(i: Ec2InstanceState, filters: Array<{ Name?: string; Values?: string[] }>): boolean {
  return filters.every((f) => {
    const values = f.Values ?? [];
    if (f.Name === 'instance-id') return values.includes(i.id);
    if (f.Name === 'instance-state-name') return values.includes(i.state);
    if (f.Name === 'tag-key') return Object.keys(i.tags).some((k) => values.includes(k));
    if (f.Name?.startsWith('tag:')) {
      const v = i.tags[f.Name.slice(4)];
      return v !== undefined && values.includes(v);
    }
    throw ec2Error('InvalidParameterValue', `FakeFleet does not model the DescribeInstances filter '${f.Name}'`);
  });
}

function describeInstances(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('ec2:DescribeInstances', '*', { 'ec2:Region': state.region });
  const ids: string[] | undefined = input.InstanceIds && input.InstanceIds.length > 0 ? input.InstanceIds : undefined;
  if (ids && input.MaxResults !== undefined) {
    throw ec2Error('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  }
  const selected = (ids ? checkIds(state, ids) : [...state.ec2Instances.values()]).filter((i) => matches(i, input.Filters ?? []));
  const { page, nextToken } = paginate(selected, {
    maxResults: input.MaxResults,
    defaultSize: ids ? Math.max(ids.length, 1) : 1000,
    limit: 1000,
    minimum: ids ? 1 : 5,
    token: input.NextToken,
    scope: `DescribeInstances:${JSON.stringify([ids ?? null, input.Filters ?? null])}`,
    invalid: (what) => (what === 'token'
      ? ec2Error('InvalidPaginationToken', 'The pagination token is not valid.')
      : ec2Error('InvalidParameterValue', 'Value for parameter maxResults is invalid. Expecting a value between 5 and 1000.')),
  });
  return {
    Reservations: page.map((i) => ({
      ReservationId: `r-${i.id.slice(2)}`,
      OwnerId: state.accountId,
      Groups: [],
      Instances: [toEc2Instance(state, i)],
    })),
    ...(nextToken ? { NextToken: nextToken } : {}),
  };
}

function describeLaunchTemplateVersions(state: FleetState, input: any, ctx: CallContext) {
  ctx.authorize('ec2:DescribeLaunchTemplateVersions', '*', { 'ec2:Region': state.region });
  for (const unmodeled of ['MinVersion', 'MaxVersion', 'Filters', 'ResolveAlias']) {
    if (input[unmodeled] !== undefined) throw ec2Error('InvalidParameterValue', `FakeFleet does not model DescribeLaunchTemplateVersions ${unmodeled}`);
  }
  if ((input.LaunchTemplateId === undefined) === (input.LaunchTemplateName === undefined)) {
    throw ec2Error('MissingParameter', 'The request must contain exactly one of LaunchTemplateId or LaunchTemplateName');
  }
  const template = state.findLaunchTemplate({ id: input.LaunchTemplateId, name: input.LaunchTemplateName });
  if (!template) {
    throw input.LaunchTemplateId !== undefined
      ? ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`)
      : ec2Error('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${input.LaunchTemplateName}, does not exist.`);
  }
  const specs: string[] = input.Versions && input.Versions.length > 0 ? input.Versions : template.versions.map((v) => String(v.versionNumber));
  const versions = specs.map((spec) => {
    const version = state.launchTemplateVersion(template, spec);
    if (!version) throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${spec} for launch template ${template.id}`);
    return version;
  });
  const { page, nextToken } = paginate(versions, {
    maxResults: input.MaxResults,
    defaultSize: 200,
    limit: 200,
    token: input.NextToken,
    scope: `DescribeLaunchTemplateVersions:${template.id}:${JSON.stringify(specs)}`,
    invalid: (what) => (what === 'token'
      ? ec2Error('InvalidPaginationToken', 'The pagination token is not valid.')
      : ec2Error('InvalidParameterValue', 'Value for parameter maxResults is invalid. Expecting a value between 1 and 200.')),
  });
  return {
    LaunchTemplateVersions: page.map((v) => ({
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      VersionNumber: v.versionNumber,
      CreateTime: new Date(v.createdAt.getTime()),
      CreatedBy: `arn:aws:iam::${state.accountId}:role/deployer`,
      DefaultVersion: v.versionNumber === template.defaultVersion,
      LaunchTemplateData: { ImageId: v.imageId, ...(v.instanceType ? { InstanceType: v.instanceType } : {}) },
    })),
    ...(nextToken ? { NextToken: nextToken } : {}),
  };
}

function terminateInstances(state: FleetState, input: any, ctx: CallContext) {
  const ids: string[] = input.InstanceIds ?? [];
  for (const id of ids) {
    const i = state.ec2Instances.get(id);
    ctx.authorize('ec2:TerminateInstances', state.ec2InstanceArn(id), {
      'ec2:Region': state.region,
      ...(i ? {
        'ec2:InstanceID': id, 'ec2:InstanceType': i.instanceType, 'ec2:AvailabilityZone': i.availabilityZone, 'ec2:InstanceProfile': i.instanceProfileArn,
      } : {}),
      ...(i ? state.tagContext(i.tags, 'ec2') : {}),
    });
  }
  if (ids.length === 0) throw ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
  const instances = checkIds(state, ids);
  // Termination protection fails the whole call before any instance changes (Auto Scaling's terminations ignore it).
  const protectedOne = instances.find((i) => i.disableApiTermination && i.state !== 'terminated');
  if (protectedOne) {
    throw ec2Error('OperationNotPermitted',
      `The instance '${protectedOne.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
  }
  const TerminatingInstances = instances.map((i) => {
    const previous = i.state;
    if (previous !== 'terminated') i.state = 'shutting-down';
    const member = state.findGroupOfInstance(i.id)?.member;
    // The group's EC2 health check notices the instance going away.
    if (member) member.healthStatus = 'Unhealthy';
    return { InstanceId: i.id, CurrentState: ec2State(i.state), PreviousState: ec2State(previous) };
  });
  return { TerminatingInstances };
}

/** EC2 handlers by command name (without the `Command` suffix). */
export const EC2_HANDLERS: Record<string, CommandHandler> = {
  DescribeInstances: describeInstances,
  TerminateInstances: terminateInstances,
  DescribeLaunchTemplateVersions: describeLaunchTemplateVersions,
};

/**
 * AMI drift (`reportAmiDrift`): container instances whose AMI (`ecs.ami-id`) differs from the one their Auto Scaling
 * group launches now. Report only: replacing them is the job of an instance refresh.
 *
 * Loaded with `import()` only when the option is on, so its Auto Scaling and EC2 clients are a chunk of their own.
 * Calls: DescribeAutoScalingGroups (every group, 100 a page: which group each instance is in, and what it launches),
 * then DescribeLaunchTemplateVersions once per launch template and DescribeLaunchConfigurations 50 names a call,
 * only for the groups of the instances checked.
 */
import {
  AutoScalingClient,
  AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { InstanceState } from './core';
import { clientConfig, chunk, describeError, paginate, settleWithConcurrency } from '../common/aws';

/** What a group launches now: the AMIs it may launch, or why that cannot be told. */
export type GroupImage = { readonly amis: readonly string[] } | { readonly unknown: string };

/** Instances of one group whose AMI is not the one the group launches now. */
export interface DriftFinding {
  readonly group: string;
  /** The AMI(s) the group launches now (several with a mixed instances policy's overrides). */
  readonly expected: readonly string[];
  readonly instances: ReadonlyArray<{ readonly instance: InstanceState; readonly ami: string }>;
}

/** A group whose AMI cannot be compared (e.g. its launch template resolves an SSM parameter at launch). */
export interface UnknownGroupImage {
  readonly group: string;
  readonly why: string;
}

/**
 * Compares each instance's AMI with its group's. Instances outside any group, or without an AMI attribute,
 * are not checked.
 */
export function findDrift(
  instances: readonly InstanceState[], groupOf: ReadonlyMap<string, string>, images: ReadonlyMap<string, GroupImage>,
): { drift: DriftFinding[]; unknown: UnknownGroupImage[] } {
  const drifted = new Map<string, Array<{ instance: InstanceState; ami: string }>>();
  const unknown = new Map<string, string>();
  for (const instance of instances) {
    const ami = instance.attributes['ecs.ami-id'];
    const group = instance.ec2InstanceId ? groupOf.get(instance.ec2InstanceId) : undefined;
    const image = group ? images.get(group) : undefined;
    if (!ami || !group || !image) continue;
    if ('unknown' in image) {
      unknown.set(group, image.unknown);
    } else if (!image.amis.includes(ami)) {
      drifted.set(group, [...drifted.get(group) ?? [], { instance, ami }]);
    }
  }
  return {
    drift: [...drifted.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, list]) => {
      const image = images.get(group) as { amis: readonly string[] };
      return { group, expected: [...image.amis].sort(), instances: list };
    }),
    unknown: [...unknown.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, why]) => ({ group, why })),
  };
}

/** The launch template specifications a group may launch from: its own, or its mixed instances policy's and overrides'. */
function templateSpecs(group: AutoScalingGroup): LaunchTemplateSpecification[] {
  if (group.LaunchTemplate) return [group.LaunchTemplate];
  const policy = group.MixedInstancesPolicy?.LaunchTemplate;
  if (!policy?.LaunchTemplateSpecification) return [];
  const overrides = (policy.Overrides ?? []).map((o) => o.LaunchTemplateSpecification).filter((s): s is LaunchTemplateSpecification => !!s);
  return [policy.LaunchTemplateSpecification, ...overrides];
}

const autoscaling = new AutoScalingClient(clientConfig());
const ec2 = new EC2Client(clientConfig());

/**
 * Which group each of these EC2 instances is in, and what each of those groups launches now. Groups whose
 * launch source cannot be read are `unknown`, with the reason.
 */
export async function readGroupImages(instanceIds: ReadonlySet<string>): Promise<{ groupOf: Map<string, string>; images: Map<string, GroupImage> }> {
  const groups = await paginate(
    (NextToken) => autoscaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken })),
    (page) => page.AutoScalingGroups,
    (page) => page.NextToken,
  );
  const groupOf = new Map<string, string>();
  const relevant: AutoScalingGroup[] = [];
  for (const group of groups) {
    const members = (group.Instances ?? []).map((i) => i.InstanceId).filter((id): id is string => !!id && instanceIds.has(id));
    if (members.length === 0 || !group.AutoScalingGroupName) continue;
    for (const id of members) groupOf.set(id, group.AutoScalingGroupName);
    relevant.push(group);
  }

  // Launch templates: one call per template, with every version the groups name.
  const versionsByTemplate = new Map<string, Set<string>>();
  for (const group of relevant) {
    for (const spec of templateSpecs(group)) {
      const id = spec.LaunchTemplateId ?? `name:${spec.LaunchTemplateName}`;
      versionsByTemplate.set(id, (versionsByTemplate.get(id) ?? new Set()).add(spec.Version ?? '$Default'));
    }
  }
  const templateImages = new Map<string, string | Error>();
  const templates = [...versionsByTemplate.entries()];
  const answers = await settleWithConcurrency(templates, 4, async ([ref, versions]) => {
    const byName = ref.startsWith('name:');
    const out = await ec2.send(new DescribeLaunchTemplateVersionsCommand({
      ...(byName ? { LaunchTemplateName: ref.slice('name:'.length) } : { LaunchTemplateId: ref }),
      Versions: [...versions],
    }));
    return out.LaunchTemplateVersions ?? [];
  });
  answers.forEach((answer, i) => {
    const [ref, versions] = templates[i];
    if (answer.status === 'rejected') {
      for (const v of versions) templateImages.set(`${ref}@${v}`, answer.reason instanceof Error ? answer.reason : new Error(String(answer.reason)));
      return;
    }
    // Match each version asked for: a number by VersionNumber, $Default by DefaultVersion, $Latest as the highest
    // number answered (it was asked for, so no version answered is newer).
    const latest = Math.max(...answer.value.map((v) => v.VersionNumber ?? 0));
    for (const v of versions) {
      const found = answer.value.find((entry) => (v === '$Default' ? entry.DefaultVersion === true
        : v === '$Latest' ? entry.VersionNumber === latest : String(entry.VersionNumber) === v));
      const image = found?.LaunchTemplateData?.ImageId;
      if (image) templateImages.set(`${ref}@${v}`, image);
    }
  });

  // Launch configurations: 50 names a call.
  const configurationNames = [...new Set(relevant.map((g) => g.LaunchConfigurationName).filter((n): n is string => !!n))];
  const configurationImages = new Map<string, string>();
  for (const names of chunk(configurationNames, 50)) {
    const found = await paginate(
      (NextToken) => autoscaling.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: names, MaxRecords: 100, NextToken })),
      (page) => page.LaunchConfigurations,
      (page) => page.NextToken,
    );
    for (const lc of found) if (lc.LaunchConfigurationName && lc.ImageId) configurationImages.set(lc.LaunchConfigurationName, lc.ImageId);
  }

  const images = new Map<string, GroupImage>();
  for (const group of relevant) {
    const name = group.AutoScalingGroupName!;
    if (group.LaunchConfigurationName) {
      const ami = configurationImages.get(group.LaunchConfigurationName);
      images.set(name, ami ? { amis: [ami] } : { unknown: `launch configuration ${group.LaunchConfigurationName} was not found` });
      continue;
    }
    const specs = templateSpecs(group);
    if (specs.length === 0) {
      images.set(name, { unknown: 'the group names no launch template or launch configuration' });
      continue;
    }
    const amis: string[] = [];
    let unknown: string | undefined;
    for (const spec of specs) {
      const ref = spec.LaunchTemplateId ?? `name:${spec.LaunchTemplateName}`;
      const image = templateImages.get(`${ref}@${spec.Version ?? '$Default'}`);
      const template = spec.LaunchTemplateName ?? spec.LaunchTemplateId;
      if (image instanceof Error) unknown = `launch template ${template} could not be read: ${describeError(image)}`;
      else if (image === undefined) unknown = `launch template ${template} version ${spec.Version ?? '$Default'} names no AMI`;
      else if (image.startsWith('resolve:ssm:')) unknown = `launch template ${template} takes its AMI from ${image.slice('resolve:ssm:'.length)} at launch`;
      else amis.push(image);
    }
    images.set(name, unknown ? { unknown } : { amis: [...new Set(amis)] });
  }
  return { groupOf, images };
}

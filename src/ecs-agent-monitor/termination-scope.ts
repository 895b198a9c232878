import * as iam from 'aws-cdk-lib/aws-iam';
import { EnvironmentSubject, subjectsOf } from '../common/environment';

/**
 * Which EC2 instances the monitor may terminate with `ec2:TerminateInstances` (`DETACH_AND_TERMINATE`, or
 * `terminateStandaloneInstances`): the grant's condition. An instance id is known only at run time, so the grant is
 * on `instance/*` in the account and region, and this condition is what keeps it to the clusters' instances.
 *
 * @example
 * declare const cluster: ecs.ICluster;
 * declare const asg: autoscaling.IAutoScalingGroup;
 * declare const instanceProfile: iam.IInstanceProfile;
 * new EcsAgentMonitor(this, 'Monitor', {
 *   clusters: [cluster],
 *   autoScalingGroups: [asg],
 *   action: ReplacementAction.DETACH_AND_TERMINATE,
 *   terminationScope: TerminationScope.instanceProfiles([instanceProfile]),
 * });
 */
export class TerminationScope {
  /**
   * Instances launched with one of these instance profiles (`ec2:InstanceProfile`). Recommended: every ECS container
   * instance has one (it carries the ECS agent's permissions), it is set at launch, and it stays when the instance
   * is detached from its group; only someone who may already change the instance can change it.
   */
  public static instanceProfiles(profiles: iam.IInstanceProfile[]): TerminationScope {
    return new TerminationScope(
      `instanceProfiles(${profiles.length})`,
      profiles.length === 0 ? ['TerminationScope.instanceProfiles() is empty; give the instance profiles of the clusters\' container instances'] : [],
      { ArnEquals: { 'ec2:InstanceProfile': profiles.map((p) => p.instanceProfileArn) } },
      subjectsOf('terminationScope: TerminationScope.instanceProfiles()', 'instance profile', profiles, (p) => p.instanceProfileArn, { global: true }),
    );
  }

  /**
   * Instances that carry this tag (`aws:ResourceTag/<key>` = `value`), for example one your launch template sets on
   * every container instance of the clusters. Whoever may tag instances can widen this scope.
   */
  public static tag(key: string, value: string): TerminationScope {
    const problems: string[] = [];
    if (!/^[\w.:/=+\-@ ]{1,128}$/.test(key) || key.startsWith('aws:')) {
      problems.push(`TerminationScope.tag() key is ${JSON.stringify(key)}; give a tag key of up to 128 letters, digits, spaces and _.:/=+-@ (not aws:...)`);
    }
    if (value.length > 256) problems.push(`TerminationScope.tag() value is ${value.length} characters long; give at most 256`);
    return new TerminationScope(`tag(${key}=${value})`, problems, { StringEquals: { [`aws:ResourceTag/${key}`]: value } });
  }

  private constructor(
    /** What the scope is, for messages. */
    private readonly description: string,
    private readonly problems: string[],
    private readonly conditions: iam.Conditions,
    private readonly subjects: EnvironmentSubject[] = [],
  ) {}

  /** The instance profiles, for the monitor's check of accounts. @internal */
  public _environmentSubjects(): EnvironmentSubject[] {
    return this.subjects;
  }

  /** Problems with the scope's own arguments. @internal */
  public _validate(): string[] {
    return this.problems;
  }

  /** The condition of the `ec2:TerminateInstances` grant. @internal */
  public _conditions(): iam.Conditions {
    return this.conditions;
  }

  /** @internal */
  public _describe(): string {
    return this.description;
  }
}

/**
 * Stacks in several accounts and regions, for the tests that a construct refuses what it was given from another
 * account or region than its stack, and takes what it cannot compare (an environment-agnostic stack or resource).
 */
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/** The stack every construct under test is in. */
export const HOME = { account: '123456789012', region: 'us-east-1' } as const;
/** Another region of the same account. */
export const OTHER_REGION = 'eu-west-1';
/** Another account, in the same region. */
export const OTHER_ACCOUNT = '210987654321';

export interface Environments {
  readonly app: App;
  /** The construct's stack, in `HOME`. */
  readonly stack: Stack;
  /** A stack of the same account in `OTHER_REGION`. */
  readonly otherRegion: Stack;
  /** A stack of `OTHER_ACCOUNT` in the same region. */
  readonly otherAccount: Stack;
  /** An environment-agnostic stack. */
  readonly agnostic: Stack;
}

export function environments(): Environments {
  const app = new App();
  return {
    app,
    stack: new Stack(app, 'Stack', { env: HOME }),
    otherRegion: new Stack(app, 'OtherRegion', { env: { account: HOME.account, region: OTHER_REGION } }),
    otherAccount: new Stack(app, 'OtherAccount', { env: { account: OTHER_ACCOUNT, region: HOME.region } }),
    agnostic: new Stack(app, 'Agnostic'),
  };
}

/** An ARN of `service` in the given place: `arn:aws:ecs:eu-west-1:123456789012:cluster/prod`. */
export function arnIn(place: { account?: string; region?: string }, service: string, resource: string): string {
  return `arn:aws:${service}:${place.region ?? HOME.region}:${place.account ?? HOME.account}:${resource}`;
}

/** A number parameter of the stack, as a construct would be given it: `{ "Ref": id }` in the template. */
export function numberParameter(stack: Stack, id: string): number {
  return new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
}

/** The warnings of one id (`cdk-ecs-ops/EcsParrot:environmentAgnostic`) in the stack, as messages. */
export function warningsOf(stack: Stack, id: string): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: ${id}\\]`))
    .map((w) => String(w.entry.data));
}

/** A cluster imported by name into `stack`: where it is is the stack's account and region (no ARN says otherwise). */
export function clusterNamed(stack: Stack, id: string, clusterName: string): ecs.ICluster {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, `${id}Vpc`, { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['a'] });
  return ecs.Cluster.fromClusterAttributes(stack, id, { clusterName, vpc });
}

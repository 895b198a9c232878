import { Annotations, IResource, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HardeningProps } from './hardening-props';

/*
 * Every construct acts in its own stack's account and region: its functions call AWS there, and its grants name
 * resources there. A resource it is given from another account or region is refused at synth (internal: not exported
 * from the package).
 */

/** Something a construct was given and acts on, reads or grants on: where it is must be where the stack deploys. */
export interface EnvironmentSubject {
  /** The prop it was given as, e.g. `clusters[1]` or `launchTarget.securityGroups[0]`. */
  readonly prop: string;
  /** What it is, for messages: `cluster`, `KMS key`. */
  readonly kind: string;
  /** The resource: its `env` says where it is (its ARN's account and region when imported by ARN, else its stack's). */
  readonly resource?: IResource;
  /** Its ARN: where it is, where the ARN is concrete (it wins over `env`, which an import by ARN does not always set). */
  readonly arn?: string;
  /** An IAM resource: in an account, in no region. */
  readonly global?: boolean;
  /**
   * Read or published to by its ARN, from the function's own region (a notification channel's secret or topic): one of
   * another account works when its resource policy (and key policy) allows the function's role, so that is a
   * warning; one of another region cannot be reached, so that is refused with `regionFix`.
   */
  readonly byArn?: boolean;
  /** How to fix a subject of another region (`byArn` only), given the stack's region. */
  readonly regionFix?: (stackRegion: string) => string;
}

interface Place {
  readonly account?: string;
  readonly region?: string;
}

/**
 * Checks that every subject is in the stack's account and region. Returns a problem per subject that is not; warns
 * (acknowledgeable, `cdk-ecs-ops/<construct>:environmentAgnostic`) when the stack is environment-agnostic and a
 * subject names its account or region, which synth then cannot compare, and (`cdk-ecs-ops/<construct>:crossAccount`)
 * for a secret or topic of another account that the function reads by ARN.
 *
 * Only what is concrete on both sides is compared (`Token.isUnresolved`): a resource of an environment-agnostic
 * stack, or created in this one, passes.
 */
export function environmentProblems(scope: Construct, constructName: string, subjects: readonly EnvironmentSubject[]): string[] {
  const stack = Stack.of(scope);
  const here: Place = { account: concrete(stack.account), region: concrete(stack.region) };
  const problems: string[] = [];
  const unchecked: string[] = [];
  const crossAccount: string[] = [];

  for (const subject of subjects) {
    const there = placeOf(subject);
    const differs = {
      account: here.account !== undefined && there.account !== undefined && here.account !== there.account,
      region: here.region !== undefined && there.region !== undefined && here.region !== there.region,
    };
    const blind = {
      account: here.account === undefined && there.account !== undefined,
      region: here.region === undefined && there.region !== undefined,
    };
    if (blind.account || blind.region) {
      unchecked.push(`${subject.prop} is in ${where({ account: blind.account ? there.account : undefined, region: blind.region ? there.region : undefined })}`);
    }
    if (subject.byArn) {
      if (differs.region) {
        problems.push(`${subject.prop} (${describe(subject)}) is in region ${there.region}, but the stack ${stack.node.path} deploys to region `
          + `${here.region}: ${constructName}'s function calls AWS in its own region, where another region's ${subject.kind} cannot be reached. `
          + (subject.regionFix ? subject.regionFix(here.region!) : `Give a ${subject.kind} of ${here.region}`));
      }
      if (differs.account) crossAccount.push(`${subject.prop} (${describe(subject)}) is in account ${there.account}`);
      continue;
    }
    if (differs.account || differs.region) {
      const theirs = where({ account: differs.account ? there.account : undefined, region: differs.region ? there.region : undefined });
      const ours = where({ account: differs.account ? here.account : undefined, region: differs.region ? here.region : undefined });
      problems.push(`${subject.prop} (${describe(subject)}) is in ${theirs}, but the stack ${stack.node.path} deploys to ${ours}: `
        + `${constructName} acts in its own stack's account and region only (its function calls AWS there, and its grants name resources there). `
        + `Give a ${subject.kind} of ${ours}, or put the ${constructName} in a stack of ${theirs}`);
    }
  }

  if (unchecked.length > 0) {
    Annotations.of(scope).addWarningV2(`cdk-ecs-ops/${constructName}:environmentAgnostic`,
      `The stack ${stack.node.path} is environment-agnostic, so synth cannot check that what ${constructName} is given is in the account and `
      + `region it deploys to: ${unchecked.join('; ')}. ${constructName} works only when the stack deploys there: give the stack an env `
      + '(account and region) for synth to check it, or deploy it only there.');
  }
  if (crossAccount.length > 0) {
    Annotations.of(scope).addWarningV2(`cdk-ecs-ops/${constructName}:crossAccount`,
      `${crossAccount.join('; ')}, not the stack's account ${here.account}. The function reaches it by its ARN only if, in that account, its `
      + 'resource policy (and the policy of the KMS key that encrypts it) allows the function\'s role; synth cannot add or check those '
      + 'statements. A secret of another account must be imported by its complete ARN, with its encryptionKey.');
  }
  return problems;
}

/** The subjects of one prop that takes a list of resources: `prop[0]`, `prop[1]`, ... */
export function subjectsOf<T extends IResource>(
  prop: string, kind: string, resources: readonly T[] | undefined, arnOf?: (resource: T) => string, extra: Partial<EnvironmentSubject> = {},
): EnvironmentSubject[] {
  return (resources ?? []).map((resource, i) => ({ ...extra, prop: `${prop}[${i}]`, kind, resource, arn: arnOf?.(resource) }));
}

/** The subjects of a VPC placement: the VPC, the subnets picked by object, the security groups. */
export function networkSubjects(
  prefix: string, vpc: ec2.IVpc | undefined, vpcSubnets: ec2.SubnetSelection | undefined, securityGroups: readonly ec2.ISecurityGroup[] | undefined,
): EnvironmentSubject[] {
  return [
    ...(vpc ? [{ prop: `${prefix}vpc`, kind: 'VPC', resource: vpc, arn: vpcArnOf(vpc) }] : []),
    ...subjectsOf(`${prefix}vpcSubnets.subnets`, 'subnet', vpcSubnets?.subnets),
    ...subjectsOf(`${prefix}securityGroups`, 'security group', securityGroups),
  ];
}

/** The subjects of the hardening props every construct takes: the keys and the VPC placement. */
export function hardeningSubjects(props: HardeningProps): EnvironmentSubject[] {
  return [
    ...(props.logEncryptionKey ? [{ prop: 'logEncryptionKey', kind: 'KMS key', resource: props.logEncryptionKey, arn: props.logEncryptionKey.keyArn }] : []),
    ...(props.encryptionKey ? [{ prop: 'encryptionKey', kind: 'KMS key', resource: props.encryptionKey, arn: props.encryptionKey.keyArn }] : []),
    ...networkSubjects('', props.vpc, props.vpcSubnets, props.securityGroups),
  ];
}

/** A secret the function reads by its ARN (a webhook URL, a Redis AUTH token). */
export function secretSubject(prop: string, secret: secretsmanager.ISecret): EnvironmentSubject {
  return {
    prop,
    kind: 'secret',
    resource: secret,
    arn: secret.secretArn,
    byArn: true,
    regionFix: (region) => `Replicate the secret to ${region} (Secrets Manager replica regions) and give the replica, or a secret of ${region}`,
  };
}

/** A topic the function publishes to by its ARN. */
export function topicSubject(prop: string, topic: sns.ITopic): EnvironmentSubject {
  return {
    prop,
    kind: 'SNS topic',
    resource: topic,
    arn: topic.topicArn,
    byArn: true,
    regionFix: (region) => `Give a topic of ${region} (SNS delivers to subscribers in other regions, so subscribe there what listens to the other topic)`,
  };
}

/** The key of an SSM SecureString parameter of the stack's account and region, which SSM decrypts it with there. */
export function parameterKeySubject(prop: string, key: kms.IKey): EnvironmentSubject {
  return {
    prop,
    kind: 'KMS key',
    resource: key,
    arn: key.keyArn,
    byArn: true,
    regionFix: (region) => `SSM decrypts a parameter of ${region} with a key of ${region}: give the key that encrypts the parameter`,
  };
}

/** An ARN given as a string (a web ACL, a container instance): a subject where it is an ARN at all. */
export function arnSubject(prop: string, kind: string, arn: string | undefined): EnvironmentSubject[] {
  return arn !== undefined && !Token.isUnresolved(arn) && arn.startsWith('arn:') ? [{ prop, kind, arn }] : [];
}

function vpcArnOf(vpc: ec2.IVpc): string | undefined {
  try {
    return vpc.vpcArn;
  } catch {
    return undefined; // a VPC some version or kind of import cannot name by ARN: its env says where it is
  }
}

/** Where a subject is, as far as synth knows: its concrete ARN's account and region, else its concrete `env`. */
function placeOf(subject: EnvironmentSubject): Place {
  const fromArn = subject.arn !== undefined ? arnPlace(subject.arn) : {};
  const env = subject.resource?.env;
  return {
    account: fromArn.account ?? concrete(env?.account),
    region: subject.global ? undefined : fromArn.region ?? concrete(env?.region),
  };
}

/**
 * The account and region of an ARN, each where it is concrete: `arn:aws:ecs:eu-west-1:111111111111:cluster/prod`,
 * also with a partition token (`arn:${AWS::Partition}:...`). A token as a whole (a `Ref` or `GetAtt`) says nothing.
 */
function arnPlace(arn: string): Place {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) return {};
  const parts = arn.split(':');
  if (parts.length < 6) return {};
  return { region: concrete(parts[3]), account: concrete(parts[4]) };
}

function concrete(value: string | undefined): string | undefined {
  return value === undefined || value === '' || Token.isUnresolved(value) ? undefined : value;
}

function where(place: Place): string {
  return [place.account ? `account ${place.account}` : undefined, place.region ? `region ${place.region}` : undefined]
    .filter((x) => x !== undefined).join(' and ');
}

/** The subject for a message: its construct path and its ARN, where known. */
function describe(subject: EnvironmentSubject): string {
  const path = subject.resource ? `${subject.kind} ${subject.resource.node.path}` : subject.kind;
  const arn = subject.arn !== undefined && !Token.isUnresolved(subject.arn) ? subject.arn : undefined;
  return arn ? `${path}, ${arn}` : path;
}

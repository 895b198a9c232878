import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * The hardening props every construct of this library takes, with the same names and meaning everywhere
 * (a construct documents where one does not apply). The defaults stay cheap and simple; together these props
 * satisfy AWS Control Tower's proactive controls (README, "Hardened deployment").
 */
export interface HardeningProps {
  /**
   * How long the logs of the construct's functions are kept. Control Tower's CT.CLOUDWATCH.PR.2 asks for a year or more.
   *
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A KMS key that encrypts every log group the construct creates (CT.CLOUDWATCH.PR.3). The construct adds the
   * key policy statement CloudWatch Logs needs, for exactly those log groups, to a key of this app; for an
   * imported key, synth warns and says which statement to add.
   *
   * @default - log groups are encrypted by CloudWatch Logs with its own keys
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * The VPC every function of the construct runs in (CT.LAMBDA.PR.3). The functions need a route to the AWS APIs
   * they call: a NAT gateway, or VPC endpoints for each (the README lists them per construct).
   *
   * @default - the functions run outside any VPC, in Lambda's own network
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` the functions run.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the functions in `vpc`; they need outbound HTTPS to the AWS APIs.
   *
   * @default - one new security group per function, all outbound traffic allowed
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * A customer managed KMS key for the queues, tables and topics the construct creates (instead of keys owned or
   * managed by AWS). The functions get only the use of it that those resources need.
   *
   * @default - each resource is encrypted with a key owned or managed by AWS
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * X-Ray tracing of the functions. `Tracing.ACTIVE` traces every invocation and adds the X-Ray write actions to
   * the functions' roles.
   *
   * @default Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
}

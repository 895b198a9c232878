import { Annotations, ArnFormat, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HardeningProps } from './hardening-props';

/*
 * What the hardening props do, shared by every construct (internal: not exported from the package).
 */

/** Checks the hardening props; returns each problem as "prop is <value>; <what to give>". */
export function validateHardening(props: HardeningProps): string[] {
  const problems: string[] = [];
  if (props.logRetention !== undefined && !Token.isUnresolved(props.logRetention)
    && !Object.values(logs.RetentionDays).includes(props.logRetention)) {
    problems.push(`logRetention is ${JSON.stringify(props.logRetention)}; give one of the logs.RetentionDays values`);
  }
  if (props.tracing !== undefined && !Object.values(lambda.Tracing).includes(props.tracing)) {
    problems.push(`tracing is ${JSON.stringify(props.tracing)}; give one of ${Object.values(lambda.Tracing).join(', ')}`);
  }
  if (!props.vpc && props.vpcSubnets) {
    problems.push('vpcSubnets is set without vpc; give the vpc the subnets belong to, or leave vpcSubnets out');
  }
  if (!props.vpc && props.securityGroups) {
    problems.push('securityGroups is set without vpc; give the vpc the security groups belong to, or leave securityGroups out');
  }
  if (props.securityGroups && props.securityGroups.length === 0) {
    problems.push('securityGroups is empty; give at least one security group, or leave it out for a new one per function');
  }
  return problems;
}

/**
 * A log group for one function of a construct, with the retention and, when given, the KMS key of the hardening
 * props. With a key, the log group gets a name of its own, so the key policy can name it without a dependency cycle.
 */
export function createLogGroup(scope: Construct, id: string, props: HardeningProps): logs.LogGroup {
  const key = props.logEncryptionKey;
  const logGroupName = key
    ? `/cdk-ecs-ops/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${id}`
    : undefined;
  const logGroup = new logs.LogGroup(scope, id, {
    logGroupName,
    retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    encryptionKey: key,
  });
  if (key && logGroupName) allowLogsToUseKey(scope, key, logGroupName);
  return logGroup;
}

/**
 * The key policy statement CloudWatch Logs needs to encrypt one log group with a customer managed key: the
 * regional logs service principal, the data-key actions, and the log group's ARN in the encryption context.
 */
export function logsKeyPolicyStatement(scope: Construct, logGroupName: string): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnEquals: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  });
}

function allowLogsToUseKey(scope: Construct, key: kms.IKey, logGroupName: string): void {
  const statement = logsKeyPolicyStatement(scope, logGroupName);
  const { statementAdded } = key.addToResourcePolicy(statement);
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2('cdk-ecs-ops:logEncryptionKeyPolicy',
      `logEncryptionKey is an imported key, so its key policy cannot be changed here. For CloudWatch Logs to encrypt the log group ${logGroupName}, `
      + `add this statement to the key policy: ${JSON.stringify(Stack.of(scope).resolve(statement.toStatementJson()))}`);
  }
}

/**
 * Lets `grantee` have a service use `key` on its behalf to read and write data (kms:ViaService): decrypt, encrypt
 * and generate data keys (or only the `actions` given, e.g. `kms:Decrypt` to read), nothing else, and never directly.
 */
export function grantKeyThroughService(
  grantee: iam.IGrantable, key: kms.IKey, service: string, scope: Construct,
  actions: readonly string[] = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(scope).region}.amazonaws.com` } },
  });
}

/**
 * The environment a construct gives its function, as the function sees it after deployment: read from the
 * synthesized template and resolved (table names, ARNs) the way CloudFormation would in 123456789012/us-east-1.
 * Handler tests and bundle runs use it, so they run with the construct's own settings, not hand-picked ones.
 */
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IntrinsicResolver } from './iam';

export function synthesizedEnvironment(stack: Stack, fn: lambda.IFunction): Record<string, string> {
  const template = Template.fromStack(stack).toJSON();
  const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
  const variables: Record<string, unknown> = template.Resources[logicalId].Properties.Environment?.Variables ?? {};
  const resolver = new IntrinsicResolver(template, { account: stack.account, region: stack.region, stackName: stack.stackName });
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolver.resolveString(value, `${logicalId} ${name}`)]));
}

/** The function's timeout in milliseconds, from the synthesized template (Lambda's 3 s default when it sets none). */
export function synthesizedTimeoutMs(stack: Stack, fn: lambda.IFunction): number {
  const template = Template.fromStack(stack).toJSON();
  const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
  const timeout = template.Resources[logicalId].Properties.Timeout;
  if (timeout !== undefined && typeof timeout !== 'number') throw new Error(`${logicalId} Timeout is not a number: ${JSON.stringify(timeout)}`);
  return (timeout ?? 3) * 1000;
}

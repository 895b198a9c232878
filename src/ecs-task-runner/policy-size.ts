import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** IAM's quota on the inline policies of one role, together: 10,240 characters (white space not counted). */
export const ROLE_INLINE_POLICY_QUOTA = 10_240;

/**
 * The longest a CloudFormation value can become, where synth does not know it: the partition, region and account
 * by their longest values, any other reference or attribute (a name, an ARN) generously.
 */
const LONGEST: Readonly<Record<string, number>> = {
  'AWS::Partition': 'aws-iso-b'.length,
  'AWS::Region': 'ap-southeast-5'.length,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 'amazonaws.com.cn'.length,
  'AWS::StackName': 128,
  'AWS::StackId': 'arn:aws-iso-b:cloudformation:ap-southeast-5:123456789012:stack/'.length + 128 + 1 + 36,
};
const UNKNOWN_REFERENCE = 128;
const UNKNOWN_VALUE = 256;

/**
 * How many characters IAM will count for these policy documents once deployed, at most: synth resolves them, and
 * every CloudFormation intrinsic is counted at the longest value it can take (see LONGEST). White space is counted
 * too, so the estimate errs on the high side.
 */
export function estimatePolicyLength(stack: Stack, documents: readonly iam.PolicyDocument[]): number {
  return documents.filter((d) => !d.isEmpty).reduce((sum, d) => sum + jsonLength(stack.resolve(d.toJSON())), 0);
}

function jsonLength(value: unknown): number {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null).length;
  if (Array.isArray(value)) return 2 + value.reduce((n: number, v) => n + jsonLength(v), 0) + Math.max(0, value.length - 1);
  const intrinsic = intrinsicLength(value as Record<string, unknown>);
  if (intrinsic !== undefined) return 2 + intrinsic; // a string, quoted
  const entries = Object.entries(value as Record<string, unknown>);
  return 2 + entries.reduce((n, [k, v]) => n + JSON.stringify(k).length + 1 + jsonLength(v), 0) + Math.max(0, entries.length - 1);
}

/** The longest string an intrinsic can resolve to, or undefined when `value` is not an intrinsic. */
function intrinsicLength(value: Record<string, unknown>): number | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1 || !(keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return undefined;
  const [key] = keys;
  const arg = value[key];
  if (key === 'Ref') return LONGEST[String(arg)] ?? UNKNOWN_REFERENCE;
  if (key === 'Fn::GetAtt') return UNKNOWN_REFERENCE;
  if (key === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
    const parts = arg[1] as unknown[];
    return parts.reduce((n: number, p) => n + stringLength(p), 0) + arg[0].length * Math.max(0, parts.length - 1);
  }
  return UNKNOWN_VALUE;
}

function stringLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return intrinsicLength(value as Record<string, unknown>) ?? UNKNOWN_VALUE;
  }
  return UNKNOWN_VALUE;
}

import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EnvironmentSubject } from './environment';
import { NotificationChannel } from './notification-channel';

/**
 * Binds every channel to `grantee` and returns the value of the function's `NOTIFICATION_CHANNELS` variable
 * (a JSON array; tokens such as a secret ARN resolve at deploy time). Internal: not exported from the package.
 */
export function bindNotificationChannels(scope: Construct, grantee: iam.IGrantable, channels: readonly NotificationChannel[]): string {
  const configs = channels.map((channel) => {
    const config = channel._bind(scope, grantee);
    // Drop undefined keys so the JSON stays small.
    return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  });
  return Stack.of(scope).toJsonString(configs);
}

/** What the channels of `notifications` read or publish to, for the construct's check of accounts and regions. */
export function channelSubjects(channels: readonly NotificationChannel[] | undefined, prop = 'notifications'): EnvironmentSubject[] {
  return (channels ?? []).flatMap((channel, i) => channel._environmentSubjects(`${prop}[${i}]`));
}

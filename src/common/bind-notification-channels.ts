import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
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

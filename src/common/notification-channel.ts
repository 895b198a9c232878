import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * Options for a webhook URL kept in a Secrets Manager secret.
 */
export interface WebhookSecretOptions {
  /**
   * The JSON key whose value is the webhook URL, when the secret holds a JSON object.
   *
   * @default - the whole secret string is the URL
   */
  readonly jsonKey?: string;
}

/**
 * Options for a webhook URL kept in an SSM parameter.
 */
export interface WebhookParameterOptions {
  /**
   * The customer managed KMS key that encrypts the SecureString parameter, so the function may decrypt it.
   *
   * @default - the parameter is encrypted with the AWS managed key `alias/aws/ssm` (or is a plain String)
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * What a bound channel tells its function: the kind of channel and where to read its target from.
 * The webhook URL itself is never part of it.
 */
export interface NotificationChannelConfig {
  /** `slack`, `teams`, `webhook` or `sns`. */
  readonly type: string;
  /** ARN of the secret holding the webhook URL. @default - not read from a secret */
  readonly secretArn?: string;
  /** JSON key in the secret whose value is the URL. @default - the whole secret string */
  readonly secretJsonKey?: string;
  /** Name of the SSM parameter holding the webhook URL. @default - not read from a parameter */
  readonly parameterName?: string;
  /** ARN of the SNS topic to publish to. @default - not an SNS channel */
  readonly topicArn?: string;
}

/**
 * Where a construct sends its chat messages: Slack, Microsoft Teams, a generic JSON webhook or an SNS topic.
 *
 * Webhook URLs are secrets: give the secret or the SSM SecureString parameter that holds the URL, never the URL.
 *
 * @example
 * declare const slackSecret: secretsmanager.ISecret;
 * const channels = [
 *   NotificationChannel.slack(slackSecret),
 *   NotificationChannel.teamsFromParameter('/chatops/teams-webhook'),
 * ];
 */
export abstract class NotificationChannel {
  /** A Slack incoming webhook whose URL is in a Secrets Manager secret. */
  public static slack(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return new SecretWebhookChannel('slack', secret, options);
  }

  /** A Slack incoming webhook whose URL is in an SSM SecureString parameter. */
  public static slackFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return new ParameterWebhookChannel('slack', parameterName, options);
  }

  /** A Microsoft Teams Workflows incoming webhook (Adaptive Cards) whose URL is in a Secrets Manager secret. */
  public static teams(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return new SecretWebhookChannel('teams', secret, options);
  }

  /** A Microsoft Teams Workflows incoming webhook whose URL is in an SSM SecureString parameter. */
  public static teamsFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return new ParameterWebhookChannel('teams', parameterName, options);
  }

  /** Any HTTPS endpoint that accepts the message as JSON; the URL is in a Secrets Manager secret. */
  public static webhook(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return new SecretWebhookChannel('webhook', secret, options);
  }

  /** Any HTTPS endpoint that accepts the message as JSON; the URL is in an SSM SecureString parameter. */
  public static webhookFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return new ParameterWebhookChannel('webhook', parameterName, options);
  }

  /** An SNS topic: a subject and a plain-text body (email, SMS, or anything subscribed). */
  public static snsTopic(topic: sns.ITopic): NotificationChannel {
    return new SnsTopicChannel(topic);
  }

  /**
   * Grants `grantee` exactly the read or publish this channel needs and returns the configuration
   * its function reads.
   */
  public abstract bind(scope: Construct, grantee: iam.IGrantable): NotificationChannelConfig;
}

class SecretWebhookChannel extends NotificationChannel {
  constructor(
    private readonly type: string,
    private readonly secret: secretsmanager.ISecret,
    private readonly options: WebhookSecretOptions,
  ) {
    super();
    const key = options.jsonKey;
    if (key !== undefined && !Token.isUnresolved(key) && key.trim() === '') {
      throw new Error(`NotificationChannel.${type}(): jsonKey is ${JSON.stringify(key)}; give the JSON key that holds the URL, or leave jsonKey out when the whole secret is the URL`);
    }
  }

  public bind(_scope: Construct, grantee: iam.IGrantable): NotificationChannelConfig {
    this.secret.grantRead(grantee);
    return { type: this.type, secretArn: this.secret.secretArn, secretJsonKey: this.options.jsonKey };
  }
}

const PARAMETER_NAME = /^\/?[a-zA-Z0-9_.\-]+(\/[a-zA-Z0-9_.\-]+)*$/;

class ParameterWebhookChannel extends NotificationChannel {
  constructor(
    private readonly type: string,
    private readonly parameterName: string,
    private readonly options: WebhookParameterOptions,
  ) {
    super();
    if (!Token.isUnresolved(parameterName) && (!PARAMETER_NAME.test(parameterName) || parameterName.length > 2048)) {
      throw new Error(
        `NotificationChannel.${type}FromParameter(): parameterName is ${JSON.stringify(parameterName)}; ` +
        'give an SSM parameter name such as "/chatops/slack-webhook" (letters, digits, _ . - and / separators), not a URL or an ARN',
      );
    }
  }

  public bind(scope: Construct, grantee: iam.IGrantable): NotificationChannelConfig {
    const stack = Stack.of(scope);
    const name = this.parameterName;
    // A name with a leading slash is a path: its ARN is parameter/<path without the first slash>.
    const resourceName = Token.isUnresolved(name) ? name : name.replace(/^\//, '');
    const parameterArn = Arn.format({ service: 'ssm', resource: 'parameter', resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
    iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: [parameterArn] });
    this.options.encryptionKey?.grantDecrypt(grantee);
    return { type: this.type, parameterName: name };
  }
}

class SnsTopicChannel extends NotificationChannel {
  constructor(private readonly topic: sns.ITopic) {
    super();
  }

  public bind(_scope: Construct, grantee: iam.IGrantable): NotificationChannelConfig {
    this.topic.grantPublish(grantee);
    return { type: 'sns', topicArn: this.topic.topicArn };
  }
}

/**
 * Binds every channel to `grantee` and returns the value of the function's `NOTIFICATION_CHANNELS`
 * variable (a JSON array; tokens such as a secret ARN resolve at deploy time).
 */
export function bindNotificationChannels(scope: Construct, grantee: iam.IGrantable, channels: readonly NotificationChannel[]): string {
  const configs = channels.map((channel) => {
    const config = channel.bind(scope, grantee);
    // Drop undefined keys so the JSON stays small.
    return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  });
  return Stack.of(scope).toJsonString(configs);
}

import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EnvironmentSubject, parameterKeySubject, secretSubject, topicSubject } from './environment';

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
 * The kinds of channel a notification can go to.
 */
export enum NotificationChannelType {
  /** A Slack incoming webhook (Block Kit). */
  SLACK = 'slack',
  /** A Microsoft Teams Workflows webhook (Adaptive Card). */
  TEAMS = 'teams',
  /** Any HTTPS endpoint that accepts the message as JSON. */
  WEBHOOK = 'webhook',
  /** An SNS topic. */
  SNS = 'sns',
}

/** What a bound channel tells its function (`NOTIFICATION_CHANNELS`): never the webhook URL, only where to read it. */
interface ChannelConfig {
  readonly type: NotificationChannelType;
  readonly secretArn?: string;
  readonly secretJsonKey?: string;
  readonly parameterName?: string;
  readonly topicArn?: string;
}

/** Grants a function what one channel needs and returns the channel's configuration. */
type Binder = (scope: Construct, grantee: iam.IGrantable) => ChannelConfig;

/** What a channel reads or publishes to, as given to the construct's `prop` (to check its account and region). */
type Subjects = (prop: string) => EnvironmentSubject[];

/**
 * Where a construct sends its chat messages: Slack, Microsoft Teams, a generic JSON webhook or an SNS topic.
 *
 * Webhook URLs are secrets: give the secret or the SSM SecureString parameter that holds the URL, never the URL.
 * The secret, the parameter's key or the topic must be in the region of the construct's stack, where the function
 * calls; one of another account there works when its resource and key policies allow the function's role (synth warns).
 *
 * @example
 * declare const slackSecret: secretsmanager.ISecret;
 * const channels = [
 *   NotificationChannel.slack(slackSecret),
 *   NotificationChannel.teamsFromParameter('/chatops/teams-webhook'),
 * ];
 */
export class NotificationChannel {
  /** A Slack incoming webhook whose URL is in a Secrets Manager secret. */
  public static slack(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return NotificationChannel.fromSecret(NotificationChannelType.SLACK, 'slack', secret, options);
  }

  /** A Slack incoming webhook whose URL is in an SSM SecureString parameter. */
  public static slackFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return NotificationChannel.fromParameter(NotificationChannelType.SLACK, 'slackFromParameter', parameterName, options);
  }

  /** A Microsoft Teams Workflows incoming webhook (Adaptive Cards) whose URL is in a Secrets Manager secret. */
  public static teams(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return NotificationChannel.fromSecret(NotificationChannelType.TEAMS, 'teams', secret, options);
  }

  /** A Microsoft Teams Workflows incoming webhook whose URL is in an SSM SecureString parameter. */
  public static teamsFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return NotificationChannel.fromParameter(NotificationChannelType.TEAMS, 'teamsFromParameter', parameterName, options);
  }

  /** Any HTTPS endpoint that accepts the message as JSON; the URL is in a Secrets Manager secret. */
  public static webhook(secret: secretsmanager.ISecret, options: WebhookSecretOptions = {}): NotificationChannel {
    return NotificationChannel.fromSecret(NotificationChannelType.WEBHOOK, 'webhook', secret, options);
  }

  /** Any HTTPS endpoint that accepts the message as JSON; the URL is in an SSM SecureString parameter. */
  public static webhookFromParameter(parameterName: string, options: WebhookParameterOptions = {}): NotificationChannel {
    return NotificationChannel.fromParameter(NotificationChannelType.WEBHOOK, 'webhookFromParameter', parameterName, options);
  }

  /** An SNS topic: a subject and a plain-text body (email, SMS, or anything subscribed). */
  public static snsTopic(topic: sns.ITopic): NotificationChannel {
    return new NotificationChannel(NotificationChannelType.SNS, (_scope, grantee) => {
      topic.grantPublish(grantee);
      return { type: NotificationChannelType.SNS, topicArn: topic.topicArn };
    }, (prop) => [topicSubject(prop, topic)]);
  }

  private static fromSecret(
    type: NotificationChannelType, factory: string, secret: secretsmanager.ISecret, options: WebhookSecretOptions,
  ): NotificationChannel {
    const key = options.jsonKey;
    if (key !== undefined && !Token.isUnresolved(key) && key.trim() === '') {
      throw new Error(`NotificationChannel.${factory}(): jsonKey is ${JSON.stringify(key)}; give the JSON key that holds the URL, or leave jsonKey out when the whole secret is the URL`);
    }
    return new NotificationChannel(type, (_scope, grantee) => {
      secret.grantRead(grantee);
      return { type, secretArn: secret.secretArn, secretJsonKey: key };
    }, (prop) => [secretSubject(prop, secret)]);
  }

  private static fromParameter(
    type: NotificationChannelType, factory: string, parameterName: string, options: WebhookParameterOptions,
  ): NotificationChannel {
    if (!Token.isUnresolved(parameterName) && (!PARAMETER_NAME.test(parameterName) || parameterName.length > 2048)) {
      throw new Error(
        `NotificationChannel.${factory}(): parameterName is ${JSON.stringify(parameterName)}; ` +
        'give an SSM parameter name such as "/chatops/slack-webhook" (letters, digits, _ . - and / separators), not a URL or an ARN',
      );
    }
    return new NotificationChannel(type, (scope, grantee) => {
      // A name with a leading slash is a path: its ARN is parameter/<path without the first slash>.
      const resourceName = Token.isUnresolved(parameterName) ? parameterName : parameterName.replace(/^\//, '');
      const parameterArn = Arn.format({ service: 'ssm', resource: 'parameter', resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, Stack.of(scope));
      iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: [parameterArn] });
      options.encryptionKey?.grantDecrypt(grantee);
      return { type, parameterName };
    }, (prop) => (options.encryptionKey ? [parameterKeySubject(`${prop} encryptionKey`, options.encryptionKey)] : []));
  }

  /** Where this channel delivers: Slack, Teams, a generic webhook or SNS. */
  public readonly channelType: NotificationChannelType;

  private constructor(channelType: NotificationChannelType, private readonly binder: Binder, private readonly subjects: Subjects) {
    this.channelType = channelType;
  }

  /**
   * What the channel reads or publishes to, given to the construct as `prop`, for the construct's check of accounts
   * and regions.
   *
   * @internal
   */
  public _environmentSubjects(prop: string): EnvironmentSubject[] {
    return this.subjects(prop);
  }

  /**
   * Grants `grantee` exactly the read or publish this channel needs and returns what its function is told.
   *
   * @internal
   */
  public _bind(scope: Construct, grantee: iam.IGrantable): ChannelConfig {
    return this.binder(scope, grantee);
  }
}

const PARAMETER_NAME = /^\/?[a-zA-Z0-9_.\-]+(\/[a-zA-Z0-9_.\-]+)*$/;

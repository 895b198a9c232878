import { createHash } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import { postJson, type Clock, type DeliveryOptions, type DeliveryOutcome } from './http';
import type { ChannelConfig, NotificationMessage } from './message';
import { renderSlack } from './render-slack';
import { renderSns } from './render-sns';
import { renderTeams } from './render-teams';
import { renderWebhook } from './render-webhook';
import { resolveWebhookUrl, WebhookUrlError, type WebhookUrlSource } from './secrets';

let snsClient: SNSClient | undefined;

/**
 * The module's SNS client. The SDK module is loaded and the client created on first use (not when this module
 * is imported), then kept for the life of the container.
 */
export async function getSnsClient(): Promise<SNSClient> {
  const sdk = await import('@aws-sdk/client-sns');
  return (snsClient ??= new sdk.SNSClient({ retryMode: 'adaptive' }));
}

export interface ChannelDeliveryOptions extends DeliveryOptions {
  readonly clock: Clock;
  /** Accept `http://127.0.0.1` / `localhost` webhook URLs (tests and local development only). */
  readonly allowInsecureLocalhost?: boolean;
  /**
   * Longest an SNS Publish (with the SDK's own retries) may take.
   * @default 10000
   */
  readonly snsTimeoutMs?: number;
}

/** Deliver one message to one channel. Never throws. */
export async function deliverToChannel(
  channel: ChannelConfig,
  message: NotificationMessage,
  options: ChannelDeliveryOptions,
): Promise<DeliveryOutcome> {
  try {
    if (channel.type === 'sns') return await publishToSns(channel.topicArn, message, options);
    return await postToWebhook(channel, message, options);
  } catch (err) {
    // renderers and the SDK should not throw here; if they do, report it rather than fail the caller
    const e = err as { name?: string; message?: string };
    return { ok: false, attempts: 0, error: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` };
  }
}

async function postToWebhook(
  channel: Exclude<ChannelConfig, { type: 'sns' }>,
  message: NotificationMessage,
  options: ChannelDeliveryOptions,
): Promise<DeliveryOutcome> {
  const source: WebhookUrlSource = 'secretArn' in channel
    ? { secretArn: channel.secretArn, secretJsonKey: channel.secretJsonKey }
    : { parameterName: channel.parameterName };
  let url: string;
  try {
    url = await resolveWebhookUrl(source, { allowInsecureLocalhost: options.allowInsecureLocalhost });
  } catch (err) {
    if (err instanceof WebhookUrlError) return { ok: false, attempts: 0, error: err.message };
    throw err;
  }
  const body = channel.type === 'slack'
    ? renderSlack(message)
    : channel.type === 'teams'
      ? renderTeams(message)
      : renderWebhook(message, options.clock.now());
  return postJson(url, body, options);
}

async function publishToSns(topicArn: string, message: NotificationMessage, options: ChannelDeliveryOptions): Promise<DeliveryOutcome> {
  const { subject, message: text, attributes } = renderSns(message);
  const remaining = (options.deadline ?? Number.POSITIVE_INFINITY) - options.clock.now();
  const timeoutMs = Math.min(options.snsTimeoutMs ?? 10_000, remaining);
  if (timeoutMs <= 0) return { ok: false, attempts: 0, error: 'not sent: no time left before the deadline' };

  const { PublishCommand } = await import('@aws-sdk/client-sns');
  const client = await getSnsClient();
  const fifo = topicArn.endsWith('.fifo');
  try {
    const response = await client.send(new PublishCommand({
      TopicArn: topicArn,
      Subject: subject,
      Message: text,
      MessageAttributes: attributes,
      ...(fifo
        ? {
          MessageGroupId: 'cdk-ecs-ops',
          MessageDeduplicationId: createHash('sha256').update(`${options.clock.now()}\n${subject}\n${text}`).digest('hex'),
        }
        : {}),
    }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return { ok: true, attempts: response.$metadata?.attempts ?? 1, status: response.$metadata?.httpStatusCode };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { attempts?: number; httpStatusCode?: number } };
    return {
      ok: false,
      attempts: e.$metadata?.attempts ?? 1,
      status: e.$metadata?.httpStatusCode,
      error: `SNS Publish to ${topicArn} failed: ${e.name ?? 'Error'}${e.message ? `: ${e.message}` : ''}`,
    };
  }
}

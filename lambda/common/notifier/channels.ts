import { createHash } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import { postJson, type Clock, type DeliveryOptions, type DeliveryOutcome } from './http';
import type { ChannelConfig, NotificationMessage } from './message';
import { renderSlack } from './render-slack';
import { renderSns } from './render-sns';
import { renderTeams } from './render-teams';
import { renderWebhook } from './render-webhook';
import { describeSource, resolveWebhookUrl, WebhookUrlError, type WebhookUrlSource } from './secrets';
import { clientConfig } from '../aws';

let snsClient: SNSClient | undefined;

/**
 * The module's SNS client. The SDK module is loaded and the client created on first use (not when this module
 * is imported), then kept for the life of the container.
 */
export async function getSnsClient(): Promise<SNSClient> {
  const sdk = await import('./sns-client');
  return (snsClient ??= new sdk.SNSClient(clientConfig()));
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

/** Answers that may mean the webhook URL was rotated or revoked since it was read: read it again, once. */
const REJECTED_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 410]);

async function postToWebhook(
  channel: Exclude<ChannelConfig, { type: 'sns' }>,
  message: NotificationMessage,
  options: ChannelDeliveryOptions,
): Promise<DeliveryOutcome> {
  const source: WebhookUrlSource = 'secretArn' in channel
    ? { secretArn: channel.secretArn, secretJsonKey: channel.secretJsonKey }
    : { parameterName: channel.parameterName };
  const url = await readUrl(source, options, false);
  if (url instanceof WebhookUrlError) return { ok: false, attempts: 0, error: url.message };
  const body = channel.type === 'slack'
    ? renderSlack(message)
    : channel.type === 'teams'
      ? renderTeams(message)
      : renderWebhook(message, options.clock.now());
  const first = await postJson(url, body, options);
  if (first.ok || !REJECTED_STATUSES.has(first.status ?? 0)) return first;

  const rejected = `${first.error}; the webhook rejected the request`;
  const fresh = await readUrl(source, options, true);
  if (fresh instanceof WebhookUrlError) return { ...first, error: `${rejected}, and reading its URL again failed: ${fresh.message}` };
  if (fresh === url) {
    return { ...first, error: `${rejected}, and the URL re-read from ${describeSource(source)} is unchanged: put a working webhook URL there` };
  }
  const second = await postJson(fresh, body, options);
  return { ...second, attempts: first.attempts + second.attempts };
}

/** The webhook URL (from the cache unless `refresh`), or why it cannot be read. */
async function readUrl(source: WebhookUrlSource, options: ChannelDeliveryOptions, refresh: boolean): Promise<string | WebhookUrlError> {
  try {
    return await resolveWebhookUrl(source, { allowInsecureLocalhost: options.allowInsecureLocalhost, clock: options.clock, refresh });
  } catch (err) {
    if (err instanceof WebhookUrlError) return err;
    throw err;
  }
}

async function publishToSns(topicArn: string, message: NotificationMessage, options: ChannelDeliveryOptions): Promise<DeliveryOutcome> {
  const { subject, message: text, attributes } = renderSns(message);
  const remaining = (options.deadline ?? Number.POSITIVE_INFINITY) - options.clock.now();
  const timeoutMs = Math.min(options.snsTimeoutMs ?? 10_000, remaining);
  if (timeoutMs <= 0) return { ok: false, attempts: 0, error: 'not sent: no time left before the deadline' };

  const { PublishCommand } = await import('./sns-client');
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

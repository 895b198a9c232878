import type { Logger } from '@aws-lambda-powertools/logger';
import { deliverToChannel } from './channels';
import { systemClock, type Clock, type DeliveryOptions } from './http';
import type { ChannelConfig, ChannelType, NotificationMessage } from './message';
import { currentBudget } from '../budget';
import { logger as sharedLogger } from '../powertools';
import { activeRedactor } from '../redact';

export type { ChannelConfig, ChannelType, MessageField, MessageSection, NotificationMessage, Severity } from './message';
export { systemClock, type Clock, type DeliveryOptions, type DeliveryOutcome } from './http';
export { clearWebhookUrlCache, resolveWebhookUrl, WEBHOOK_URL_MAX_AGE_MS, WebhookUrlError, type WebhookUrlSource } from './secrets';
export { renderSlack, escapeSlack, SLACK_LIMITS } from './render-slack';
export { renderTeams, TEAMS_LIMITS } from './render-teams';
export { renderWebhook } from './render-webhook';
export { renderSns, sanitizeSnsSubject, SNS_LIMITS } from './render-sns';

/** The environment variable that holds the channel list (a JSON array of `ChannelConfig`). */
export const NOTIFICATION_CHANNELS_ENV = 'NOTIFICATION_CHANNELS';

/** Time kept back from the Lambda's remaining time, so the handler can finish after notifying. */
export const DEADLINE_RESERVE_MS = 500;

/** What the notifier needs from a logger; a Powertools `Logger` has it. */
export type NotifierLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface NotifierOptions {
  /**
   * Where delivery results are logged.
   * @default - the function's shared logger (lambda/common/powertools.ts)
   */
  readonly logger?: NotifierLogger;
  /**
   * Time source for retries and the per-webhook rate gate.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * Timeouts, retries and rate limit for webhook delivery.
   * @default - 5 s timeout, 3 attempts, 1 s base backoff, 30 s longest wait, 1 request per second per webhook
   */
  readonly delivery?: Omit<DeliveryOptions, 'clock' | 'deadline'>;
  /**
   * Accept `http://127.0.0.1` and `http://localhost` webhook URLs. Tests and local development only.
   * @default false
   */
  readonly allowInsecureLocalhost?: boolean;
}

export interface SendOptions {
  /**
   * Time left in this invocation, e.g. `context.getRemainingTimeInMillis()`. No retry wait or request is
   * started that would end later than this less `DEADLINE_RESERVE_MS`, nor after the current time budget's
   * deadline (budget.ts), which bounds delivery also without this.
   * @default - the current time budget's deadline (none outside an invocation: each webhook is still bounded by its
   * attempts, timeouts and longest wait)
   */
  readonly remainingTimeMs?: number;
  /**
   * Deliver only to these channels (indexes into `channels`), e.g. to retry the ones a message has not reached.
   * @default - every channel
   */
  readonly channels?: readonly number[];
}

/** The outcome for one channel. */
export interface DeliveryResult {
  /** The channel's type and its index in the channel list, e.g. `slack#0`. */
  readonly channel: string;
  readonly ok: boolean;
  /** Requests made to the channel (0 if none was made, e.g. the webhook URL could not be read). */
  readonly attempts: number;
  /** HTTP status of the last response, if any. */
  readonly status?: number;
  /** Why it failed. Never contains a webhook URL. */
  readonly error?: string;
}

export interface Notifier {
  /** The channels this notifier delivers to. */
  readonly channels: readonly ChannelConfig[];
  /**
   * Deliver one message to every channel (or the `channels` chosen) concurrently. Never rejects: each channel's
   * outcome is in the result, in channel order, and failures are logged. Every string of the message (its `data`
   * too) is masked by the active redactor (lambda/common/redact.ts) before any channel renders it.
   */
  send(message: NotificationMessage, options?: SendOptions): Promise<DeliveryResult[]>;
}


/**
 * When delivery must be over, on `clock`: the earlier of `remainingTimeMs` less `DEADLINE_RESERVE_MS` and the
 * current time budget's deadline (counted on `clock` from what the budget has left), or undefined for none.
 */
function sendDeadline(clock: Clock, remainingTimeMs: number | undefined): number | undefined {
  const now = clock.now();
  const budget = currentBudget();
  const candidates = [
    ...(remainingTimeMs === undefined ? [] : [now + remainingTimeMs - DEADLINE_RESERVE_MS]),
    ...(budget && Number.isFinite(budget.deadline) ? [now + budget.remainingMs()] : []),
  ];
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** Label of a channel in results and logs, e.g. `teams#1`. */
export function channelLabel(channel: ChannelConfig, index: number): string {
  return `${channel.type}#${index}`;
}

/** Create a notifier for a list of channels. Create it once, at module scope. */
export function createNotifier(channels: readonly ChannelConfig[], options: NotifierOptions = {}): Notifier {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? sharedLogger;
  const list = [...channels];

  return {
    channels: list,
    async send(original: NotificationMessage, sendOptions: SendOptions = {}): Promise<DeliveryResult[]> {
      const message = activeRedactor().value(original);
      const deadline = sendDeadline(clock, sendOptions.remainingTimeMs);
      if (list.length === 0) {
        logger.debug('No notification channels configured; message not sent', { source: message.source, title: message.title });
        return [];
      }
      const chosen = sendOptions.channels === undefined ? undefined : new Set(sendOptions.channels);
      const targets = list.map((channel, index) => ({ channel, index })).filter(({ index }) => !chosen || chosen.has(index));
      return Promise.all(targets.map(async ({ channel, index }): Promise<DeliveryResult> => {
        const label = channelLabel(channel, index);
        const outcome = await deliverToChannel(channel, message, {
          ...options.delivery,
          clock,
          deadline,
          allowInsecureLocalhost: options.allowInsecureLocalhost,
        });
        const result: DeliveryResult = {
          channel: label,
          ok: outcome.ok,
          attempts: outcome.attempts,
          ...(outcome.status !== undefined ? { status: outcome.status } : {}),
          ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        };
        if (result.ok) {
          logger.info('Notification delivered', { channel: label, attempts: result.attempts, source: message.source });
        } else {
          logger.error('Notification not delivered', {
            channel: label,
            attempts: result.attempts,
            status: result.status,
            error: result.error,
            source: message.source,
            title: message.title,
          });
        }
        return result;
      }));
    },
  };
}

/**
 * Parse and check the channel list from `NOTIFICATION_CHANNELS`. Unset or blank means no channels.
 * @throws Error naming `NOTIFICATION_CHANNELS` and every bad entry by index
 */
export function parseChannels(json: string | undefined): ChannelConfig[] {
  if (json === undefined || json.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`${NOTIFICATION_CHANNELS_ENV} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new Error(`${NOTIFICATION_CHANNELS_ENV} must be a JSON array of channels, got ${describeType(parsed)}`);
  }
  const problems: string[] = [];
  parsed.forEach((entry: unknown, index: number) => {
    for (const problem of checkChannel(entry)) problems.push(`${NOTIFICATION_CHANNELS_ENV}[${index}]: ${problem}`);
  });
  if (problems.length > 0) {
    throw new Error(`Invalid ${NOTIFICATION_CHANNELS_ENV}:\n  ${problems.join('\n  ')}`);
  }
  return parsed as ChannelConfig[];
}

/** Create a notifier from the `NOTIFICATION_CHANNELS` environment variable, read once, now. */
export function notifierFromEnv(options: NotifierOptions = {}, env: NodeJS.ProcessEnv = process.env): Notifier {
  return createNotifier(parseChannels(env[NOTIFICATION_CHANNELS_ENV]), options);
}

const WEBHOOK_TYPES: readonly ChannelType[] = ['slack', 'teams', 'webhook'];
const ALL_TYPES: readonly ChannelType[] = [...WEBHOOK_TYPES, 'sns'];

function checkChannel(entry: unknown): string[] {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return [`must be an object, got ${describeType(entry)}`];
  }
  const e = entry as Record<string, unknown>;
  const type = e.type;
  if (typeof type !== 'string' || !ALL_TYPES.includes(type as ChannelType)) {
    return [`type ${JSON.stringify(type)} is not one of ${ALL_TYPES.join(', ')}`];
  }
  const problems: string[] = [];
  const allowed = type === 'sns' ? ['type', 'topicArn'] : ['type', 'secretArn', 'secretJsonKey', 'parameterName'];
  for (const key of Object.keys(e)) {
    if (!allowed.includes(key)) problems.push(`unknown property "${key}" for a ${type} channel (allowed: ${allowed.slice(1).join(', ')})`);
  }

  if (type === 'sns') {
    if (!isNonEmptyString(e.topicArn) || !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w.-]+$/.test(e.topicArn)) {
      problems.push(`topicArn must be an SNS topic ARN, got ${JSON.stringify(e.topicArn)}`);
    }
    return problems;
  }

  const hasSecret = e.secretArn !== undefined;
  const hasParameter = e.parameterName !== undefined;
  if (hasSecret === hasParameter) {
    problems.push(`a ${type} channel needs exactly one of secretArn or parameterName`);
  }
  if (hasSecret && (!isNonEmptyString(e.secretArn) || !/^arn:aws[a-z-]*:secretsmanager:/.test(e.secretArn))) {
    problems.push(`secretArn must be a Secrets Manager secret ARN, got ${JSON.stringify(e.secretArn)}`);
  }
  if (e.secretJsonKey !== undefined) {
    if (!hasSecret) problems.push('secretJsonKey is only allowed with secretArn');
    if (!isNonEmptyString(e.secretJsonKey)) problems.push(`secretJsonKey must be a non-empty string, got ${JSON.stringify(e.secretJsonKey)}`);
  }
  if (hasParameter && (!isNonEmptyString(e.parameterName) || /\s/.test(e.parameterName))) {
    problems.push(`parameterName must be an SSM parameter name or ARN, got ${JSON.stringify(e.parameterName)}`);
  }
  return problems;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

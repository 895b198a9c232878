import type { NotificationMessage } from './message';

/** The JSON body POSTed to a generic webhook: the message itself plus an envelope version and time. */
export type WebhookPayload = NotificationMessage & {
  /** Version of this envelope; bumped only on a breaking change. */
  readonly version: 1;
  /** When the notifier sent it, ISO 8601 UTC. */
  readonly sentAt: string;
};

/** Render a message for a generic webhook. `now` is epoch milliseconds. */
export function renderWebhook(message: NotificationMessage, now: number): WebhookPayload {
  return { version: 1, sentAt: new Date(now).toISOString(), ...message };
}

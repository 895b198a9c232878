import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { NotificationMessage, Severity } from './message';
import { truncateUtf8 } from './text';

/** SNS Publish limits (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). */
export const SNS_LIMITS = {
  /** Subject: ASCII, no line breaks or control characters, fewer than 100 characters. */
  subject: 99,
  /**
   * Message and message attributes together (each attribute's name, data type and value): at most 256 KiB
   * of UTF-8. The subject does not count.
   */
  messageBytes: 262_144,
} as const;

const SEVERITY_TAG: Record<Severity, string> = {
  info: 'INFO',
  success: 'OK',
  warning: 'WARNING',
  error: 'ERROR',
};

export interface SnsRendered {
  readonly subject: string;
  readonly message: string;
  /** Message attributes for subscription filter policies; they count toward the size limit with the message. */
  readonly attributes: Record<string, MessageAttributeValue>;
}

/** Typographic characters with a clear ASCII stand-in. */
const ASCII_STAND_INS: Record<string, string> = Object.fromEntries([
  ...[...'\u2018\u2019\u201A\u201B'].map(ch => [ch, "'"]),
  ...[...'\u201C\u201D\u201E\u201F'].map(ch => [ch, '"']),
  ...[...'\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00B7\u2022'].map(ch => [ch, '-']),
  ['\u2026', '...'],
  ['\u2192', '->'],
  ['\u00D7', 'x'],
]);

/**
 * Make a valid SNS Subject: printable ASCII only (accents are stripped, typographic quotes and dashes
 * mapped, other letters become `?`, emoji and symbols are dropped), no line breaks, whitespace collapsed, at most 99 characters.
 */
export function sanitizeSnsSubject(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/gu, asciiStandIn)
    .replace(/ {2,}/g, ' ')
    .trim();
  const subject = ascii.length > 0 ? ascii : 'Notification';
  if (subject.length <= SNS_LIMITS.subject) return subject;
  return subject.slice(0, SNS_LIMITS.subject - 3).trimEnd() + '...';
}

/** Render a message as an SNS subject, a plain-text body and message attributes, together under the size limit. */
export function renderSns(message: NotificationMessage): SnsRendered {
  const tag = SEVERITY_TAG[message.severity] ?? message.severity.toUpperCase();
  const subject = sanitizeSnsSubject(`[${tag}] ${message.title}`);
  const attributes: Record<string, MessageAttributeValue> = {
    severity: { DataType: 'String', StringValue: message.severity },
    source: { DataType: 'String', StringValue: message.source || 'unknown' },
  };

  const parts: string[] = [];
  parts.push(`[${tag}] ${message.title}`);
  parts.push(`Source: ${[message.source, ...(message.context ?? [])].join(' · ')}`);
  if (message.summary) parts.push('', message.summary);
  if (message.fields && message.fields.length > 0) {
    parts.push('');
    for (const f of message.fields) parts.push(`${f.name}: ${f.value}`);
  }
  for (const section of message.sections ?? []) {
    parts.push('');
    if (section.heading) parts.push(section.heading, '-'.repeat(Math.min(section.heading.length, 60)));
    parts.push(section.text);
  }
  const links = [message.link, ...(message.links ?? [])].filter((l): l is { text: string; url: string } => !!l);
  if (links.length > 0) parts.push('', ...links.map((l) => `${l.text}: ${l.url}`));

  const room = SNS_LIMITS.messageBytes - attributeBytes(attributes);
  const body = truncateUtf8(parts.join('\n'), room, dropped => `\n\n… ${dropped} more bytes not shown`);
  return { subject, message: body, attributes };
}

/** What message attributes add to the size SNS checks: every name, data type and value, in UTF-8. */
function attributeBytes(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, a]) => sum + Buffer.byteLength(name + (a.DataType ?? '') + (a.StringValue ?? ''), 'utf8'), 0);
}

/** Whitespace becomes a space, known typography its ASCII form, other letters and digits `?`; symbols and emoji go. */
function asciiStandIn(ch: string): string {
  if (/\s/u.test(ch)) return ' ';
  const known = ASCII_STAND_INS[ch];
  if (known !== undefined) return known;
  return /[\p{L}\p{N}]/u.test(ch) ? '?' : '';
}

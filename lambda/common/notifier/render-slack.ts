import type { NotificationMessage, Severity } from './message';
import { ELLIPSIS, moreNote, shrinkToFit, truncate, truncateLines, type ShrinkBudget } from './text';

/**
 * Slack Block Kit limits (https://api.slack.com/reference/block-kit/blocks). Text over a limit is cut
 * with an ellipsis and a "… N more" note; the payload is never rejected for length.
 */
export const SLACK_LIMITS = {
  /** Blocks in one message. */
  blocks: 50,
  /**
   * Text of all blocks together. Slack rejects a longer message with `msg_blocks_too_long`, well below
   * 50 full blocks; reports put the limit at about 12,000 characters.
   */
  totalText: 12_000,
  /** `text` of a section block. */
  sectionText: 3000,
  /** `text` of a header block. */
  headerText: 150,
  /** Fields in one section block. */
  fieldsPerSection: 10,
  /** `text` of one field. */
  fieldText: 2000,
  /** Text of a button. */
  buttonText: 75,
  /** URL of a button. */
  buttonUrl: 3000,
  /** Top-level `text` fallback (Slack truncates at 40,000; notifications show far less). */
  fallbackText: 3000,
  /** Text of one context element. */
  contextText: 2000,
  /** Buttons shown (an actions block takes up to 25; more than a few is noise). */
  buttons: 5,
} as const;

/** Emoji shortcode that leads the header and the fallback text, by severity. */
export const SLACK_SEVERITY_EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  success: ':white_check_mark:',
  warning: ':warning:',
  error: ':rotating_light:',
};

/** The JSON body of a Slack incoming-webhook message. */
export interface SlackPayload {
  readonly text: string;
  readonly blocks: SlackBlock[];
}

export type SlackText =
  | { readonly type: 'mrkdwn'; readonly text: string }
  | { readonly type: 'plain_text'; readonly text: string; readonly emoji?: boolean };

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: SlackText[] }
  | { readonly type: 'context'; readonly elements: SlackText[] }
  | { readonly type: 'divider' }
  | {
    readonly type: 'actions';
    readonly elements: { type: 'button'; text: SlackText; url: string }[];
  };

/**
 * Escape the three characters Slack treats as control characters in mrkdwn and in `text`
 * (https://api.slack.com/reference/surfaces/formatting#escaping).
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escape, then fit into `max` characters. The cut never splits an escape sequence such as `&amp;`.
 * Multi-line text is cut at a line break with a "… N more lines" note.
 */
export function escapeAndFit(raw: string, max: number): string {
  const escaped = escapeSlack(raw);
  if (escaped.length <= max) return escaped;
  const fitted = truncateLines(escaped, max);
  return repairEntityCut(fitted);
}

/**
 * Render a message as a Slack Block Kit payload with a plain `text` fallback, its blocks under
 * `SLACK_LIMITS.totalText` characters of text. The header and the link button are always kept.
 */
export function renderSlack(message: NotificationMessage): SlackPayload {
  const budget: ShrinkBudget = {
    sectionText: SLACK_LIMITS.sectionText,
    sections: message.sections?.length ?? 0,
    fields: message.fields?.length ?? 0,
  };
  return shrinkToFit(budget, SLACK_LIMITS.totalText, b => build(message, b), payload => textLength(payload.blocks));
}

function build(message: NotificationMessage, budget: ShrinkBudget): SlackPayload {
  const emoji = SLACK_SEVERITY_EMOJI[message.severity] ?? SLACK_SEVERITY_EMOJI.info;
  const title = oneLine(message.title) || '(no title)';

  const blocks: SlackBlock[] = [];
  blocks.push({
    type: 'header',
    // header text is plain_text: no escaping, emoji shortcodes rendered
    text: { type: 'plain_text', text: truncate(`${emoji} ${title}`, SLACK_LIMITS.headerText), emoji: true },
  });
  blocks.push({
    type: 'context',
    elements: [{
      type: 'mrkdwn',
      text: escapeAndFit([message.source, message.severity, ...(message.context ?? [])].join(' · '), SLACK_LIMITS.contextText),
    }],
  });
  if (message.summary) {
    blocks.push({ type: 'section', text: mrkdwn(escapeAndFit(message.summary, SLACK_LIMITS.sectionText)) });
  }

  const fields = message.fields ?? [];
  const shownFields = fields.slice(0, budget.fields);
  for (let i = 0; i < shownFields.length; i += SLACK_LIMITS.fieldsPerSection) {
    const chunk = shownFields.slice(i, i + SLACK_LIMITS.fieldsPerSection);
    blocks.push({
      type: 'section',
      fields: chunk.map(f => mrkdwn(fieldText(f.name, f.value))),
    });
  }
  if (fields.length > shownFields.length) blocks.push(notShown(moreNote(fields.length - shownFields.length, 'field')));

  const sections = message.sections ?? [];
  const shownSections = sections.slice(0, budget.sections);
  for (const section of shownSections) {
    blocks.push({ type: 'section', text: mrkdwn(sectionText(section.heading, section.text, budget.sectionText)) });
  }
  if (sections.length > shownSections.length) blocks.push(notShown(moreNote(sections.length - shownSections.length, 'section')));

  const tail: SlackBlock[] = [];
  const buttons = [message.link, ...(message.links ?? [])]
    .filter((l): l is { text: string; url: string } => !!l && isHttpUrl(l.url) && l.url.length <= SLACK_LIMITS.buttonUrl)
    .slice(0, SLACK_LIMITS.buttons);
  if (buttons.length > 0) {
    tail.push({
      type: 'actions',
      elements: buttons.map((l) => ({
        type: 'button' as const,
        text: { type: 'plain_text' as const, text: truncate(oneLine(l.text) || 'Open', SLACK_LIMITS.buttonText), emoji: true },
        url: l.url,
      })),
    });
  }

  const fallback = escapeAndFit(
    message.summary ? `${emoji} ${title}\n${message.summary}` : `${emoji} ${title}`,
    SLACK_LIMITS.fallbackText,
  );
  return { text: fallback, blocks: capBlocks(blocks, tail) };
}

/**
 * Keep at most 50 blocks: the link (tail) always stays; if body blocks must go, the last kept one is a
 * context block saying how many were left out.
 */
function capBlocks(body: SlackBlock[], tail: SlackBlock[]): SlackBlock[] {
  const room = SLACK_LIMITS.blocks - tail.length;
  if (body.length <= room) return [...body, ...tail];
  const keep = room - 1;
  const dropped = body.length - keep;
  return [...body.slice(0, keep), notShown(moreNote(dropped, 'block')), ...tail];
}

/** A context block that says what was left out, e.g. `… 3 more sections not shown`. */
function notShown(note: string): SlackBlock {
  return { type: 'context', elements: [mrkdwn(`_${note} not shown_`)] };
}

/** Characters of text in the blocks: what Slack's total limit counts. */
function textLength(blocks: SlackBlock[]): number {
  let length = 0;
  for (const block of blocks) {
    if ('text' in block && block.text) length += block.text.text.length;
    if ('fields' in block && block.fields) for (const field of block.fields) length += field.text.length;
    if ('elements' in block) for (const element of block.elements) length += 'url' in element ? element.text.text.length : element.text.length;
  }
  return length;
}

function fieldText(name: string, value: string): string {
  const label = `*${escapeAndFit(oneLine(name), 200)}*\n`;
  return label + escapeAndFit(value, SLACK_LIMITS.fieldText - label.length);
}

function sectionText(heading: string | undefined, text: string, max: number): string {
  const head = heading ? `*${escapeAndFit(oneLine(heading), 300)}*\n` : '';
  return head + escapeAndFit(text, max - head.length);
}

function mrkdwn(text: string): SlackText {
  // Slack rejects an empty text object
  return { type: 'mrkdwn', text: text.length > 0 ? text : ' ' };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * After a cut, the text may end with part of an escape (`&am…`). After escaping, every `&` starts a
 * complete `&amp;`, `&lt;` or `&gt;`, so an `&` that runs into the ellipsis without its `;` is a fragment.
 */
function repairEntityCut(text: string): string {
  return text.replace(new RegExp(`&(?:amp|am|a|lt|l|gt|g)?${ELLIPSIS}`, 'g'), ELLIPSIS);
}

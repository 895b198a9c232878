import type { NotificationMessage, Severity } from './message';
import { moreNote, shrinkToFit, truncate, truncateLines, type ShrinkBudget } from './text';

/**
 * Limits for a Teams Workflows ("When a Teams webhook request is received") message. Teams rejects a
 * message over about 28 KB; the card is shrunk until the whole JSON body fits `maxBytes`.
 */
export const TEAMS_LIMITS = {
  /** UTF-8 size of the whole JSON body, with headroom under the 28 KB message limit. */
  maxBytes: 27_000,
  /** Title text. */
  title: 300,
  /** One fact title. */
  factTitle: 200,
  /** One fact value. */
  factValue: 2000,
  /** A section heading. */
  heading: 300,
  /** Summary text. */
  summary: 4000,
  /** Action.OpenUrl title. */
  actionTitle: 100,
  /** Actions shown. */
  actions: 5,
} as const;

/** TextBlock colour of the title, by severity. */
const SEVERITY_COLOR: Record<Severity, string> = {
  info: 'Default',
  success: 'Good',
  warning: 'Warning',
  error: 'Attention',
};

const SEVERITY_LABEL: Record<Severity, string> = {
  info: 'Info',
  success: 'Success',
  warning: 'Warning',
  error: 'Error',
};

export interface AdaptiveCard {
  readonly $schema: string;
  readonly type: 'AdaptiveCard';
  /** 1.5, the version that added TextBlock `style: 'heading'`, which the title uses. */
  readonly version: '1.5';
  readonly body: Record<string, unknown>[];
  readonly actions?: Record<string, unknown>[];
  readonly msteams?: Record<string, unknown>;
}

/** The JSON body a Teams Workflows webhook accepts. */
export interface TeamsPayload {
  readonly type: 'message';
  readonly attachments: [{
    readonly contentType: 'application/vnd.microsoft.card.adaptive';
    readonly contentUrl: null;
    readonly content: AdaptiveCard;
  }];
}

/** Render a message as an Adaptive Card 1.5 inside a Teams message, under `TEAMS_LIMITS.maxBytes`. */
export function renderTeams(message: NotificationMessage): TeamsPayload {
  const budget: ShrinkBudget = { sectionText: 8000, sections: message.sections?.length ?? 0, fields: message.fields?.length ?? 0 };
  return shrinkToFit(budget, TEAMS_LIMITS.maxBytes, b => build(message, b), byteSize);
}

function build(message: NotificationMessage, budget: ShrinkBudget): TeamsPayload {
  const body: Record<string, unknown>[] = [];
  body.push({
    type: 'TextBlock',
    text: truncate(oneLine(message.title) || '(no title)', TEAMS_LIMITS.title),
    style: 'heading',
    size: 'Large',
    weight: 'Bolder',
    color: SEVERITY_COLOR[message.severity] ?? 'Default',
    wrap: true,
  });
  body.push({
    type: 'TextBlock',
    text: [SEVERITY_LABEL[message.severity] ?? message.severity, truncate(oneLine(message.source), 100), ...(message.context ?? []).map(oneLine)].join(' · '),
    isSubtle: true,
    spacing: 'None',
    size: 'Small',
    wrap: true,
  });
  if (message.summary) {
    body.push({ type: 'TextBlock', text: lineBreaks(truncateLines(message.summary, TEAMS_LIMITS.summary)), wrap: true });
  }

  const allFacts = message.fields ?? [];
  if (allFacts.length > 0 && budget.fields > 0) {
    body.push({
      type: 'FactSet',
      facts: allFacts.slice(0, budget.fields).map(f => ({
        title: truncate(oneLine(f.name), TEAMS_LIMITS.factTitle),
        value: truncate(oneLine(f.value), TEAMS_LIMITS.factValue),
      })),
    });
  }
  if (allFacts.length > budget.fields) {
    body.push(note(moreNote(allFacts.length - budget.fields, 'field')));
  }

  const allSections = message.sections ?? [];
  for (const section of allSections.slice(0, budget.sections)) {
    if (section.heading) {
      body.push({
        type: 'TextBlock',
        text: truncate(oneLine(section.heading), TEAMS_LIMITS.heading),
        weight: 'Bolder',
        separator: true,
        spacing: 'Medium',
        wrap: true,
      });
    }
    body.push({
      type: 'TextBlock',
      text: lineBreaks(truncateLines(section.text, budget.sectionText)),
      wrap: true,
      spacing: section.heading ? 'Small' : 'Medium',
    });
  }
  if (allSections.length > budget.sections) {
    body.push(note(moreNote(allSections.length - budget.sections, 'section')));
  }

  const actions = [message.link, ...(message.links ?? [])]
    .filter((l): l is { text: string; url: string } => !!l && /^https?:\/\//i.test(l.url))
    .slice(0, TEAMS_LIMITS.actions)
    .map((l) => ({ type: 'Action.OpenUrl', title: truncate(oneLine(l.text) || 'Open', TEAMS_LIMITS.actionTitle), url: l.url }));
  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    ...(actions.length > 0 ? { actions } : {}),
    msteams: { width: 'Full' },
  };
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

function note(text: string): Record<string, unknown> {
  return { type: 'TextBlock', text, isSubtle: true, size: 'Small', wrap: true };
}

/** Teams collapses a single `\n` in a TextBlock in some clients; a blank line always breaks. */
function lineBreaks(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\n+/g, '\n\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function byteSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

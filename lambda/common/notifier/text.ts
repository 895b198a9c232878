/**
 * Helpers shared by the renderers: length-limited truncation that never fails, never splits a
 * surrogate pair, and says how much was left out; and a loop that shrinks a whole message to a size.
 */

/** The ellipsis appended where text was cut. */
export const ELLIPSIS = '…';

/** Cut `text` to at most `max` UTF-16 code units, ending with an ellipsis if anything was removed. */
export function truncate(text: string, max: number, ellipsis: string = ELLIPSIS): string {
  if (text.length <= max) return text;
  if (max <= ellipsis.length) return ellipsis.slice(0, Math.max(0, max));
  return safeSlice(text, max - ellipsis.length) + ellipsis;
}

/**
 * Fit multi-line text into `max` code units. Whole lines are kept while they fit, then a note
 * `… N more lines` says what was dropped. If not even the first line fits, it is cut with an ellipsis.
 */
export function truncateLines(text: string, max: number): string {
  if (text.length <= max) return text;
  const lines = text.split('\n');
  const kept: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const remaining = lines.length - i;
    const note = moreLinesNote(remaining);
    const cost = (kept.length > 0 ? 1 : 0) + lines[i].length;
    // keep this line only if the note for the lines after it still fits
    const after = remaining - 1;
    const noteAfter = after > 0 ? 1 + moreLinesNote(after).length : 0;
    if (used + cost + noteAfter <= max) {
      kept.push(lines[i]);
      used += cost;
      continue;
    }
    if (kept.length === 0) {
      // not even the first line fits whole: cut it and say how many lines follow
      const tail = after > 0 ? '\n' + moreLinesNote(after) : '';
      return truncate(lines[0], Math.max(0, max - tail.length)) + tail;
    }
    return kept.join('\n') + '\n' + note;
  }
  /* c8 ignore next 2 */
  return kept.join('\n');
}

/** `… 1 more line` / `… 12 more lines`. */
export function moreLinesNote(count: number): string {
  return `${ELLIPSIS} ${count} more line${count === 1 ? '' : 's'}`;
}

/** `… 3 more fields` etc. */
export function moreNote(count: number, noun: string): string {
  return `${ELLIPSIS} ${count} more ${noun}${count === 1 ? '' : 's'}`;
}

/** Cut to at most `max` UTF-16 code units without leaving half of a surrogate pair at the end. */
export function safeSlice(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/** Cut a string so its UTF-8 encoding is at most `maxBytes`, ending with `suffix` if anything was removed. */
export function truncateUtf8(text: string, maxBytes: number, suffix: (droppedBytes: number) => string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  // the suffix length depends on the number; reserve room for the longest it can be
  const reserve = Buffer.byteLength(suffix(bytes), 'utf8');
  const budget = Math.max(0, maxBytes - reserve);
  const buf = Buffer.from(text, 'utf8').subarray(0, budget);
  // drop a partial multi-byte character at the cut
  let kept = buf.toString('utf8');
  if (kept.endsWith('\uFFFD') && !text.startsWith(kept)) kept = kept.slice(0, -1);
  const dropped = bytes - Buffer.byteLength(kept, 'utf8');
  return kept + suffix(dropped);
}

/** How much of a message's sections and fields a renderer shows. */
export interface ShrinkBudget {
  /** Longest text of one section. */
  readonly sectionText: number;
  /** Sections shown, from the first. */
  readonly sections: number;
  /** Fields shown, from the first. */
  readonly fields: number;
}

/**
 * Render with a shrinking budget until `size(rendered) <= max`: first halve long section texts (not below
 * 500), then drop sections from the end, then fields. The renderer says how many it left out. Returns the
 * smallest rendering if even that is over `max`.
 */
export function shrinkToFit<T>(start: ShrinkBudget, max: number, render: (budget: ShrinkBudget) => T, size: (rendered: T) => number): T {
  let budget = start;
  for (;;) {
    const rendered = render(budget);
    const used = size(rendered);
    if (used <= max) return rendered;
    // drop in proportion to the excess, so a huge message converges in a few rounds
    const scaled = (n: number) => Math.max(0, Math.min(n - 1, Math.floor((n * max) / used)));
    if (budget.sectionText > 500 && budget.sections > 0) {
      budget = { ...budget, sectionText: Math.floor(budget.sectionText / 2) };
    } else if (budget.sections > 0) {
      budget = { ...budget, sections: scaled(budget.sections) };
    } else if (budget.fields > 0) {
      budget = { ...budget, fields: scaled(budget.fields) };
    } else {
      // nothing left to drop; what remains is capped field by field
      return rendered;
    }
  }
}

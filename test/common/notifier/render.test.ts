import { agentMonitorReport } from './support';
import type { NotificationMessage } from '../../../lambda/common/notifier/message';
import { escapeSlack, renderSlack, SLACK_LIMITS, type SlackBlock } from '../../../lambda/common/notifier/render-slack';
import { renderSns, sanitizeSnsSubject, SNS_LIMITS } from '../../../lambda/common/notifier/render-sns';
import { renderTeams, TEAMS_LIMITS } from '../../../lambda/common/notifier/render-teams';
import { renderWebhook } from '../../../lambda/common/notifier/render-webhook';
import { truncate, truncateLines, truncateUtf8 } from '../../../lambda/common/notifier/text';

type AnyBlock = SlackBlock & { text?: { type: string; text: string }; fields?: { text: string }[]; elements?: any[] };

function allSlackTexts(blocks: SlackBlock[]): string[] {
  return (blocks as AnyBlock[]).flatMap(b => [
    ...(b.text ? [b.text.text] : []),
    ...(b.fields ?? []).map(f => f.text),
    ...(b.elements ?? []).map((e: any) => e.text?.text ?? e.text),
  ]);
}

describe('text helpers', () => {
  test('truncate keeps short text and cuts long text with an ellipsis', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });

  test('truncate does not split a surrogate pair', () => {
    const text = 'ab😀cd';
    // cutting at 3 code units would leave half of the emoji
    expect(truncate(text, 4)).toBe('ab…');
  });

  test('truncateLines keeps whole lines and says how many were left out', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const out = truncateLines(text, 60);
    expect(out.length).toBeLessThanOrEqual(60);
    expect(out.startsWith('line 0\nline 1\n')).toBe(true);
    const shown = out.split('\n').length - 1;
    expect(out.endsWith(`… ${100 - shown} more lines`)).toBe(true);
  });

  test('truncateLines cuts a single overlong line with an ellipsis', () => {
    const out = truncateLines('x'.repeat(100) + '\nnext', 50);
    expect(out).toHaveLength(50);
    expect(out).toMatch(/^x+…\n… 1 more line$/);
  });

  test('truncateUtf8 fits the byte limit without a broken character', () => {
    const text = 'é'.repeat(1000); // 2 bytes each
    const out = truncateUtf8(text, 501, n => `[+${n}]`);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(501);
    expect(out).not.toContain('\uFFFD');
    expect(out).toMatch(/^é+\[\+\d+\]$/);
  });
});

describe('Slack renderer', () => {
  test('renders the agent monitor report as Block Kit with a text fallback', () => {
    // Prepare
    const message = agentMonitorReport();

    // Act
    const payload = renderSlack(message);

    // Assess
    expect(payload.text).toBe(`:warning: ${message.title}\n${escapeSlack(message.summary!)}`);
    expect(payload.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: `:warning: ${message.title}`, emoji: true },
    });
    expect(payload.blocks[1]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'EcsAgentMonitor · warning' }] });
    const fieldBlock = payload.blocks.find(b => b.type === 'section' && 'fields' in b && b.fields) as AnyBlock;
    expect(fieldBlock.fields).toContainEqual({ type: 'mrkdwn', text: '*Cluster*\ndefault' });
    const sections = payload.blocks.filter(b => b.type === 'section' && (b as AnyBlock).text?.text.startsWith('*Disconnected instances*'));
    expect(sections).toHaveLength(1);
    expect(payload.blocks[payload.blocks.length - 1]).toEqual({
      type: 'actions',
      elements: [{
        type: 'button',
        text: { type: 'plain_text', text: 'Open the cluster in the ECS console', emoji: true },
        url: message.link!.url,
      }],
    });
  });

  test('escapes &, < and > in mrkdwn and in the fallback', () => {
    const payload = renderSlack({
      source: 'Test',
      title: 'a & b',
      severity: 'error',
      summary: 'x < y && y > z <!channel>',
      fields: [{ name: '<name>', value: 'A&B' }],
      sections: [{ heading: 'H&H', text: '<@U123> <https://evil.example|click>' }],
    });
    expect(payload.text).toBe(':rotating_light: a &amp; b\nx &lt; y &amp;&amp; y &gt; z &lt;!channel&gt;');
    // the header is plain_text, which Slack shows as is
    expect((payload.blocks[0] as AnyBlock).text!.text).toBe(':rotating_light: a & b');
    const texts = allSlackTexts(payload.blocks.slice(1)); // header is plain_text: not escaped
    expect(texts).toContain('x &lt; y &amp;&amp; y &gt; z &lt;!channel&gt;');
    expect(texts).toContain('*&lt;name&gt;*\nA&amp;B');
    expect(texts).toContain('*H&amp;H*\n&lt;@U123&gt; &lt;https://evil.example|click&gt;');
    for (const t of texts) expect(t).not.toMatch(/<|>/);
  });

  test('picks the emoji from the severity', () => {
    const base = { source: 's', title: 't' };
    expect(renderSlack({ ...base, severity: 'info' }).text).toBe(':information_source: t');
    expect(renderSlack({ ...base, severity: 'success' }).text).toBe(':white_check_mark: t');
    expect(renderSlack({ ...base, severity: 'warning' }).text).toBe(':warning: t');
    expect(renderSlack({ ...base, severity: 'error' }).text).toBe(':rotating_light: t');
  });

  test('truncates the header at 150 characters', () => {
    const payload = renderSlack({ source: 's', title: 'T'.repeat(400), severity: 'info' });
    const header = (payload.blocks[0] as AnyBlock).text!.text;
    expect(header).toHaveLength(SLACK_LIMITS.headerText);
    expect(header.endsWith('…')).toBe(true);
  });

  test('truncates a long section at 3,000 characters with a "… N more lines" note', () => {
    // Prepare: 300 disconnected instances, ~150 characters per line
    const message = agentMonitorReport(298);

    // Act
    const payload = renderSlack(message);

    // Assess
    const section = (payload.blocks as AnyBlock[]).find(b => b.text?.text.startsWith('*Disconnected instances*'))!;
    expect(section.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const shown = section.text!.text.split('\n').length - 2; // heading and note
    expect(section.text!.text).toMatch(new RegExp(`\n… ${300 - shown} more lines$`));
  });

  test('escaping counts toward the limit and a cut never leaves half an entity', () => {
    const payload = renderSlack({ source: 's', title: 't', severity: 'info', summary: '&'.repeat(3000) });
    const summary = (payload.blocks[2] as AnyBlock).text!.text;
    expect(summary.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(summary).toMatch(/^(&amp;)+…$/);
  });

  test('puts at most 10 fields in a section and cuts field text at 2,000 characters', () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ name: `F${i}`, value: i === 0 ? 'v'.repeat(5000) : `v${i}` }));
    const payload = renderSlack({ source: 's', title: 't', severity: 'info', fields });
    const fieldBlocks = (payload.blocks as AnyBlock[]).filter(b => b.fields);
    expect(fieldBlocks.map(b => b.fields!.length)).toEqual([10, 10, 3]);
    const first = fieldBlocks[0].fields![0].text;
    expect(first.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(first.startsWith('*F0*\nvvv')).toBe(true);
    expect(first.endsWith('…')).toBe(true);
  });

  test('keeps at most 50 blocks, says how many were left out and keeps the link', () => {
    // Prepare: 80 sections, plus header, context and summary
    const sections = Array.from({ length: 80 }, (_, i) => ({ heading: `Service ${i}`, text: 'steady' }));
    const message: NotificationMessage = { ...agentMonitorReport(), fields: [], sections };

    // Act
    const payload = renderSlack(message);

    // Assess
    expect(payload.blocks).toHaveLength(SLACK_LIMITS.blocks);
    const body = 3 + 80; // header, context, summary, sections
    const kept = SLACK_LIMITS.blocks - 2; // one for the note, one for the link
    expect(payload.blocks[48]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `_… ${body - kept} more blocks not shown_` }] });
    expect(payload.blocks[49].type).toBe('actions');
  });

  test('keeps 40 sections of 2,900 characters under the total text limit, with the header, the button and a note', () => {
    // Prepare: 40 services, each with a 2,900-character paragraph of ECS service events
    const event = (i: number) => `(service api-${i}) was unable to place a task because no container instance met all of its requirements. `;
    const sections = Array.from({ length: 40 }, (_, i) => ({ heading: `Service ${i}`, text: event(i).repeat(30).slice(0, 2900) }));
    const message: NotificationMessage = { ...agentMonitorReport(), sections };

    // Act
    const payload = renderSlack(message);

    // Assess
    const total = allSlackTexts(payload.blocks).join('').length;
    expect(SLACK_LIMITS.totalText).toBe(12_000);
    expect(total).toBeLessThanOrEqual(SLACK_LIMITS.totalText);
    expect(payload.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `:warning: ${message.title}`, emoji: true } });
    expect(payload.blocks[payload.blocks.length - 1]).toMatchObject({ type: 'actions', elements: [{ type: 'button', url: message.link!.url }] });
    const shown = (payload.blocks as AnyBlock[]).filter(b => b.text?.text.startsWith('*Service '));
    expect(shown.length).toBeGreaterThan(0);
    expect(payload.blocks).toContainEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `_… ${40 - shown.length} more sections not shown_` }] });
    // the sections that are shown were shortened
    for (const section of shown) expect(section.text!.text).toMatch(/…$/);
    // the fields are still there
    expect(allSlackTexts(payload.blocks)).toContain('*Cluster*\ndefault');
  });

  test('drops fields from the end when they alone pass the total text limit', () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ name: `Service ${i}`, value: 'v'.repeat(1000) }));
    const payload = renderSlack({ source: 's', title: 't', severity: 'info', fields });

    const shown = (payload.blocks as AnyBlock[]).flatMap(b => b.fields ?? []);
    expect(allSlackTexts(payload.blocks).join('').length).toBeLessThanOrEqual(SLACK_LIMITS.totalText);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown[0].text.startsWith('*Service 0*\n')).toBe(true);
    expect(payload.blocks).toContainEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `_… ${30 - shown.length} more fields not shown_` }] });
  });

  test('leaves out a link that is not http(s)', () => {
    const payload = renderSlack({ source: 's', title: 't', severity: 'info', link: { text: 'x', url: 'javascript:alert(1)' } });
    expect(payload.blocks.some(b => b.type === 'actions')).toBe(false);
  });

  test('puts the context after the source and severity, and shows the link and up to four more as buttons', () => {
    // Prepare
    const links = Array.from({ length: 6 }, (_, i) => ({ text: `Task ${i}`, url: `https://console.aws.amazon.com/ecs/v2/task/${i}` }));
    const message: NotificationMessage = {
      source: 'EcsParrot',
      title: 't',
      severity: 'error',
      link: { text: 'Service', url: 'https://console.aws.amazon.com/ecs/v2/service' },
      links,
      context: ['123456789012', 'us-east-1', '2026-03-02 08:00 UTC'],
    };

    // Act
    const payload = renderSlack(message);

    // Assess
    expect(payload.blocks[1]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'EcsParrot · error · 123456789012 · us-east-1 · 2026-03-02 08:00 UTC' }] });
    const actions = payload.blocks[payload.blocks.length - 1] as AnyBlock;
    expect(actions.elements!.map((e: any) => e.text.text)).toEqual(['Service', 'Task 0', 'Task 1', 'Task 2', 'Task 3']);
  });
});

describe('Teams renderer', () => {
  test('renders an Adaptive Card 1.5 in a Workflows message', () => {
    // Prepare
    const message = agentMonitorReport();

    // Act
    const payload = renderTeams(message);

    // Assess
    expect(payload.type).toBe('message');
    expect(payload.attachments).toHaveLength(1);
    const [attachment] = payload.attachments;
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = attachment.content;
    // the title uses TextBlock style "heading", which Adaptive Cards added in version 1.5
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: message.title, style: 'heading', weight: 'Bolder', color: 'Warning', wrap: true });
    expect(card.body).toContainEqual(expect.objectContaining({
      type: 'FactSet',
      facts: message.fields!.map(f => ({ title: f.name, value: f.value })),
    }));
    expect(card.body).toContainEqual(expect.objectContaining({ type: 'TextBlock', text: 'Disconnected instances', weight: 'Bolder' }));
    const instances = card.body.find(b => typeof b.text === 'string' && (b.text as string).startsWith('i-807f3249'));
    expect(instances).toMatchObject({ type: 'TextBlock', wrap: true });
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the cluster in the ECS console', url: message.link!.url }]);
  });

  test('colours the title by severity', () => {
    const colour = (severity: NotificationMessage['severity']) =>
      renderTeams({ source: 's', title: 't', severity }).attachments[0].content.body[0].color;
    expect([colour('info'), colour('success'), colour('warning'), colour('error')]).toEqual(['Default', 'Good', 'Warning', 'Attention']);
  });

  test('stays under the size limit for a huge report, saying what was left out', () => {
    // Prepare: 2,000 instances and 200 fields
    const base = agentMonitorReport(1998);
    const message: NotificationMessage = {
      ...base,
      fields: Array.from({ length: 200 }, (_, i) => ({ name: `Service ${i}`, value: 'x'.repeat(300) })),
      sections: [...base.sections!, ...Array.from({ length: 50 }, (_, i) => ({ heading: `Extra ${i}`, text: 'y'.repeat(3000) }))],
    };

    // Act
    const payload = renderTeams(message);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(TEAMS_LIMITS.maxBytes);
    const texts = payload.attachments[0].content.body.map(b => b.text).filter(t => typeof t === 'string') as string[];
    expect(texts[0]).toBe(base.title);
    expect(texts.some(t => /^… \d+ more sections$/.test(t))).toBe(true);
    expect(payload.attachments[0].content.actions).toHaveLength(1);
  });

  test('shows the context on the subtle line and every link as an action, at most five', () => {
    const links = Array.from({ length: 6 }, (_, i) => ({ text: `Logs ${i}`, url: `https://console.aws.amazon.com/cloudwatch/${i}` }));
    const card = renderTeams({ source: 'EcsParrot', title: 't', severity: 'warning', context: ['123456789012', 'us-east-1'], links }).attachments[0].content;
    expect(card.body[1].text).toBe('Warning · EcsParrot · 123456789012 · us-east-1');
    expect(card.actions!.map(a => a.title)).toEqual(['Logs 0', 'Logs 1', 'Logs 2', 'Logs 3', 'Logs 4']);
  });
});

describe('generic webhook renderer', () => {
  test('is the message plus version and sentAt', () => {
    const message = agentMonitorReport();
    const payload = renderWebhook(message, Date.UTC(2025, 5, 1, 12, 0, 0));
    expect(payload).toEqual({ ...message, version: 1, sentAt: '2025-06-01T12:00:00.000Z' });
  });

  test('carries the message\'s data for machines as is', () => {
    const data = { kind: 'ecs-parrot/v1', events: [{ type: 'task-stopped', taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/abc' }] };
    expect(renderWebhook({ source: 's', title: 't', severity: 'info', data }, 0).data).toEqual(data);
  });
});

describe('SNS renderer', () => {
  test('renders a subject and a plain-text body', () => {
    // Act
    const { subject, message } = renderSns(agentMonitorReport());

    // Assess
    expect(subject).toBe('[WARNING] 2 container instances in cluster default have a disconnected ECS agent');
    expect(message.split('\n').slice(0, 2)).toEqual([
      '[WARNING] 2 container instances in cluster default have a disconnected ECS agent',
      'Source: EcsAgentMonitor',
    ]);
    expect(message).toContain('\nCluster: default\nRegion: us-east-1\n');
    expect(message).toContain('\nDisconnected instances\n----------------------\ni-807f3249 ');
    expect(message).toContain('\nOpen the cluster in the ECS console: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/default/infrastructure?region=us-east-1');
  });

  test('adds the context to the source line and lists every link', () => {
    const { message } = renderSns({
      source: 'EcsParrot',
      title: 't',
      severity: 'error',
      context: ['123456789012', 'us-east-1'],
      link: { text: 'Service', url: 'https://a.example/s' },
      links: [{ text: 'Logs', url: 'https://a.example/l' }],
      data: { hidden: true },
    });
    expect(message).toBe('[ERROR] t\nSource: EcsParrot · 123456789012 · us-east-1\n\nService: https://a.example/s\nLogs: https://a.example/l');
  });

  test('sanitizes the subject to one line of printable ASCII', () => {
    expect(sanitizeSnsSubject('Déploiement échoué\n\tservice “api” — 🚨 stopped…')).toBe('Deploiement echoue service "api" - stopped...');
    expect(sanitizeSnsSubject('Cluster 本番 down')).toBe('Cluster ?? down');
    expect(sanitizeSnsSubject('\u0000\u0007bell\r\n')).toBe('bell');
    expect(sanitizeSnsSubject('🚨')).toBe('Notification');
  });

  test('cuts the subject to 99 characters, as SNS needs fewer than 100', () => {
    const subject = sanitizeSnsSubject('A'.repeat(250));
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('...')).toBe(true);
    expect(renderSns({ source: 's', title: 'x'.repeat(500), severity: 'error' }).subject).toHaveLength(99);
  });

  test('keeps a 99-character subject and cuts a 100-character one', () => {
    expect(SNS_LIMITS.subject).toBe(99);
    expect(sanitizeSnsSubject('A'.repeat(99))).toBe('A'.repeat(99));
    expect(sanitizeSnsSubject('A'.repeat(100))).toBe(`${'A'.repeat(96)}...`);
  });

  test('keeps the body under 256 KB', () => {
    const { message } = renderSns({ source: 's', title: 't', severity: 'info', sections: [{ text: 'ü'.repeat(200_000) }] });
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_LIMITS.messageBytes);
    expect(message).toMatch(/… \d+ more bytes not shown$/);
  });
});

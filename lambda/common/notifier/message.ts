/**
 * The structured message every handler hands to the notifier. Each channel renders it in its own
 * format (Slack Block Kit, a Teams Adaptive Card, plain JSON, an SNS subject and body).
 */
export type Severity = 'info' | 'success' | 'warning' | 'error';

export interface MessageField {
  /** Short label, e.g. "Cluster". */
  readonly name: string;
  /** Value shown next to the label, e.g. "prod". */
  readonly value: string;
}

export interface MessageSection {
  /** Optional heading shown in bold above the text. */
  readonly heading?: string;
  /** Plain text; may hold several lines. */
  readonly text: string;
}

export interface NotificationMessage {
  /** Which construct sent it, e.g. "EcsAgentMonitor". */
  readonly source: string;
  /** One line that says what happened. */
  readonly title: string;
  readonly severity: Severity;
  /** A short paragraph under the title. */
  readonly summary?: string;
  /** Key facts as label/value pairs. */
  readonly fields?: readonly MessageField[];
  /** Longer details, e.g. a list of instances. */
  readonly sections?: readonly MessageSection[];
  /** A link to more detail (console, logs). */
  readonly link?: { readonly text: string; readonly url: string };
  /**
   * More links, after `link` (Slack buttons and Teams actions show the first five; SNS lists them all).
   * @default - none
   */
  readonly links?: readonly { readonly text: string; readonly url: string }[];
  /**
   * Short facts for the context line under the title, after the source and severity (e.g. account, region, time).
   * @default - none
   */
  readonly context?: readonly string[];
  /**
   * Structured data for machines: sent as is in the generic webhook's JSON (`data`), not shown in chat or SNS.
   * @default - none
   */
  readonly data?: unknown;
}

/**
 * One delivery target, as the construct passes it to the function in the
 * `NOTIFICATION_CHANNELS` environment variable (a JSON array of these).
 * A webhook URL is never in the environment: only where to read it from.
 */
export type ChannelConfig =
  | {
    readonly type: 'slack' | 'teams' | 'webhook';
    /** ARN of a Secrets Manager secret that holds the URL. */
    readonly secretArn: string;
    /** If the secret is JSON, the key whose value is the URL; otherwise the whole secret string is the URL. */
    readonly secretJsonKey?: string;
  }
  | {
    readonly type: 'slack' | 'teams' | 'webhook';
    /** Name of an SSM SecureString (or String) parameter that holds the URL. */
    readonly parameterName: string;
  }
  | {
    readonly type: 'sns';
    readonly topicArn: string;
  };

export type ChannelType = ChannelConfig['type'];

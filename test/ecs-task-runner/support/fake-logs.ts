/**
 * CloudWatch Logs for the runner's tests: log streams with their events, answering GetLogEvents through the real
 * CloudWatchLogsClient (aws-sdk-client-mock) as the service does (the newest `limit` events with
 * `startFromHead: false`, limit 1 to 10,000, ResourceNotFoundException for an unknown group or stream), and the
 * IAM request each call makes (logs:GetLogEvents on the log stream's ARN).
 */
import { CloudWatchLogsClient, GetLogEventsCommand, InvalidParameterException, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { IamRequest } from '../../support/iam';

export class FakeLogs {
  /** Every GetLogEvents input, in order. */
  public readonly calls: any[] = [];
  private readonly streams = new Map<string, string[]>();
  private stub?: AwsStub<any, any, any>;

  constructor(private readonly region = 'us-east-1', private readonly account = '123456789012') {}

  public install(): this {
    this.stub = mockClient(CloudWatchLogsClient);
    this.stub.on(GetLogEventsCommand).callsFake((input: any) => this.getLogEvents(input));
    return this;
  }

  /** From now on, GetLogEvents is never answered (a Logs endpoint that hangs); the calls are still recorded. */
  public neverAnswer(): void {
    this.stub?.on(GetLogEventsCommand).callsFake((input: any) => {
      this.calls.push(input);
      return new Promise(() => undefined);
    });
  }

  public uninstall(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  /** Appends lines to a stream (creating it). */
  public write(group: string, stream: string, ...lines: string[]): void {
    const key = `${group}\n${stream}`;
    this.streams.set(key, [...this.streams.get(key) ?? [], ...lines]);
  }

  /** The IAM requests of the calls made. */
  public iamRequests(): IamRequest[] {
    return this.calls.map((c) => ({
      action: 'logs:GetLogEvents',
      resource: `arn:aws:logs:${this.region}:${this.account}:log-group:${c.logGroupName}:log-stream:${c.logStreamName}`,
    }));
  }

  private getLogEvents(input: any) {
    this.calls.push(structuredClone(input));
    const limit = input.limit ?? 10_000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new InvalidParameterException({ message: 'limit must be between 1 and 10000', $metadata: { httpStatusCode: 400 } });
    }
    const lines = this.streams.get(`${input.logGroupName}\n${input.logStreamName}`);
    if (!lines) throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: { httpStatusCode: 400 } });
    const chosen = input.startFromHead ? lines.slice(0, limit) : lines.slice(-limit);
    const base = Date.parse('2026-03-02T08:00:00Z');
    return { events: chosen.map((message, i) => ({ timestamp: base + i, message, ingestionTime: base + i })), nextForwardToken: 'f/1', nextBackwardToken: 'b/1' };
  }
}

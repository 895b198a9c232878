/**
 * The status API handler's environment as EcsStatusApi synthesizes it, for the handler tests, the IAM proof and the
 * local preview, so none of them runs with hand-picked settings.
 */
import { App, Stack } from 'aws-cdk-lib';
import { EcsStatusApi, EcsStatusApiProps } from '../../../src';
import { synthesizedEnvironment } from '../../support/synthesized-environment';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** The environment of an EcsStatusApi synthesized with `props` (by default: every cluster, IAM, a 30 s cache). */
export function statusApiEnvironment(props: (stack: Stack) => EcsStatusApiProps = () => ({})): Record<string, string> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const status = new EcsStatusApi(stack, 'Status', props(stack));
  return synthesizedEnvironment(stack, status.handler);
}

let defaults: Record<string, string> | undefined;

/** The environment of an EcsStatusApi at its defaults, synthesized once. */
export function defaultStatusApiEnvironment(): Record<string, string> {
  defaults ??= statusApiEnvironment();
  return { ...defaults };
}

/**
 * The configurations the README documents, per construct, with the cdk-nag findings each leaves for the user
 * to see (a scope the user did not give; the README names the prop that removes it) and, where checked, the
 * Control Tower controls it breaks. Everything else a construct acknowledges itself.
 *
 * One list serves two checks: the construct tests run it against this repository's sources with cdk-nag 2 and
 * the aws-cdk-lib floor, and the consumer tests bundle this file into bare apps that installed the packed
 * library with each aws-cdk-lib of their matrix and cdk-nag 2 and 3 (so configurations import only types from
 * aws-cdk-lib and the library: they use what they are given).
 */
import type { DocumentedConfiguration } from './configuration-kit';
import { AGENT_MONITOR_CONFIGURATIONS } from '../ecs-agent-monitor/documented-configurations';
import { AGENT_UPDATER_CONFIGURATIONS } from '../ecs-agent-updater/documented-configurations';
import { PARROT_CONFIGURATIONS } from '../ecs-parrot/documented-configurations';
import { STATUS_API_CONFIGURATIONS } from '../ecs-status-api/documented-configurations';
import { TASK_RUNNER_CONFIGURATIONS } from '../ecs-task-runner/documented-configurations';

export type { DocumentedConfiguration, Modules } from './configuration-kit';
export { ACCOUNT, REGION } from './configuration-kit';

/** Every documented configuration, construct by construct. */
export const DOCUMENTED_CONFIGURATIONS: readonly DocumentedConfiguration[] = [
  ...AGENT_MONITOR_CONFIGURATIONS,
  ...STATUS_API_CONFIGURATIONS,
  ...AGENT_UPDATER_CONFIGURATIONS,
  ...PARROT_CONFIGURATIONS,
  ...TASK_RUNNER_CONFIGURATIONS,
];

/**
 * What the EcsParrot construct (its rule patterns) and its handler (its classification) must agree on. Keep it
 * free of imports: the handler bundle includes it.
 */

/** The ECS API calls reported with `includeApiCalls`, unless `apiCalls` says otherwise. */
export const DEFAULT_API_CALLS: readonly string[] = [
  'RunTask', 'StartTask', 'StopTask', 'ExecuteCommand',
  'CreateService', 'UpdateService', 'DeleteService',
  'RegisterTaskDefinition', 'DeregisterTaskDefinition', 'DeleteTaskDefinitions',
  'RegisterContainerInstance', 'DeregisterContainerInstance', 'UpdateContainerAgent', 'UpdateContainerInstancesState',
  'CreateCluster', 'UpdateCluster', 'DeleteCluster', 'PutClusterCapacityProviders',
  'CreateTaskSet', 'UpdateTaskSet', 'DeleteTaskSet', 'UpdateServicePrimaryTaskSet',
];

/** API calls that remove, stop, or open a shell into something: reported as warnings (the rest as INFO). */
export const DESTRUCTIVE_API_CALLS: readonly string[] = [
  'DeleteService', 'DeleteCluster', 'DeleteCapacityProvider', 'DeregisterContainerInstance', 'DeregisterTaskDefinition',
  'DeleteTaskDefinitions', 'DeleteTaskSet', 'StopTask', 'ExecuteCommand',
];

/** How a stopped task's `stoppedReason` begins when the service scheduler scaled in (a deployment, or auto scaling). */
export const SCALE_IN_REASON_PREFIX = 'Scaling activity initiated by';

/** What the `reason` of a deployment event that rolls back contains. */
export const ROLLBACK_REASON = 'rolling back';

/** How long a delivered event is remembered, and a quiet failure is forgotten (seconds). */
export const DEDUPE_WINDOW_SECONDS = 3600;

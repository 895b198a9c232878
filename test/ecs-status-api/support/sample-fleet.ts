/**
 * Fleets for the status API's tests, its local preview and its benchmark, built on the fake fleet.
 */
import type { FakeFleet } from '../../support/fake-fleet';

/**
 * A realistic fleet: three clusters (prod with EC2 and Fargate services, staging on Fargate Spot, batch with an
 * EXTERNAL service), tagged as teams tag them (environment, owner, contact, team), with a failing deployment, a
 * service with no task running, a deployment in progress, one scaled to zero and one being deleted.
 */
export function seedSampleFleet(fleet: FakeFleet): void {
  const minutesAgo = (n: number) => new Date(fleet.now.getTime() - n * 60_000);
  const event = (message: string, minutes: number) => ({ id: `${message.length}-${minutes}`, createdAt: minutesAgo(minutes), message });
  const team = (environment: string, owner: string, contact: string, extra: Record<string, string> = {}) =>
    ({ environment, owner, contact, ...extra });

  fleet.addCluster('prod', { tags: { 'environment': 'prod', 'cost-center': 'cc-1042' } });
  fleet.addCluster('staging', { tags: { 'environment': 'staging', 'cost-center': 'cc-1042' } });
  fleet.addCluster('batch', { tags: { 'environment': 'prod', 'cost-center': 'cc-2077' } });

  fleet.addService('prod', 'checkout-api', { launchType: 'FARGATE', desiredCount: 6, tags: team('prod', 'payments', 'payments-oncall@example.com', { team: 'payments' }) });
  fleet.updateService('prod', 'checkout-api', { events: [event('(service checkout-api) has reached a steady state.', 12)] });
  fleet.addService('prod', 'payments-worker', {
    launchType: 'FARGATE',
    desiredCount: 4,
    runningCount: 2,
    rolloutState: 'FAILED',
    rolloutStateReason: 'ECS deployment circuit breaker: 3 tasks failed to start.',
    tags: team('prod', 'payments', 'payments-oncall@example.com', { team: 'payments' }),
  });
  fleet.updateService('prod', 'payments-worker', {
    events: [event('(service payments-worker) (deployment ecs-svc/0123) deployment failed: tasks failed to start.', 7)],
  });
  fleet.addService('prod', 'search', { launchType: 'EC2', desiredCount: 3, tags: team('prod', 'discovery', '#discovery-alerts') });
  fleet.addService('prod', 'recommendations', {
    launchType: 'EC2',
    desiredCount: 2,
    runningCount: 0,
    pendingCount: 2,
    tags: team('prod', 'discovery', '#discovery-alerts'),
  });
  fleet.updateService('prod', 'recommendations', {
    events: [event('(service recommendations) was unable to place a task because no container instance met all of its requirements.', 3)],
  });
  fleet.addService('prod', 'image-resizer', {
    capacityProviderStrategy: [{ capacityProvider: 'prod-asg-provider', weight: 1 }],
    desiredCount: 4,
    tags: team('prod', 'media', 'media@example.com'),
  });
  fleet.addService('prod', 'web', {
    launchType: 'FARGATE',
    desiredCount: 8,
    runningCount: 8,
    rolloutState: 'IN_PROGRESS',
    tags: team('prod', 'storefront', 'storefront@example.com', { team: 'storefront' }),
  });
  fleet.updateService('prod', 'web', { events: [event('(service web) has started 4 tasks: (task 5e1b) (task 7c2d) (task 9a3f) (task 0b4e).', 2)] });

  fleet.addService('staging', 'checkout-api', {
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 3 }, { capacityProvider: 'FARGATE', weight: 1, base: 1 }],
    desiredCount: 2,
    tags: team('staging', 'payments', 'payments-oncall@example.com', { team: 'payments' }),
  });
  fleet.addService('staging', 'web', {
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    desiredCount: 2,
    runningCount: 1,
    rolloutState: 'IN_PROGRESS',
    tags: team('staging', 'storefront', 'storefront@example.com', { team: 'storefront' }),
  });
  fleet.addService('staging', 'search', { launchType: 'FARGATE', desiredCount: 0, tags: team('staging', 'discovery', '#discovery-alerts') });
  fleet.addService('staging', 'legacy-admin', { launchType: 'FARGATE', desiredCount: 0, runningCount: 0, status: 'DRAINING', tags: team('staging', 'platform', 'platform@example.com') });

  fleet.addService('batch', 'nightly-export', { launchType: 'EC2', desiredCount: 1, tags: { owner: 'data', contact: 'data-eng@example.com' } });
  fleet.addService('batch', 'edge-sync', { launchType: 'EXTERNAL', desiredCount: 2, tags: team('prod', 'platform', 'platform@example.com') });
}

/**
 * A large fleet: `clusters` clusters (`cluster-00`, ...) of `servicesPerCluster` healthy services each, tagged with
 * an environment and an owner, half on Fargate and half on EC2.
 */
export function seedLargeFleet(fleet: FakeFleet, clusters: number, servicesPerCluster: number): string[] {
  const names: string[] = [];
  for (let c = 0; c < clusters; c++) {
    const cluster = `cluster-${String(c).padStart(2, '0')}`;
    names.push(cluster);
    fleet.addCluster(cluster);
    for (let s = 0; s < servicesPerCluster; s++) {
      fleet.addService(cluster, `service-${String(s).padStart(3, '0')}`, {
        launchType: s % 2 === 0 ? 'FARGATE' : 'EC2',
        taskDefinition: 'app',
        desiredCount: 2,
        tags: { environment: c % 2 === 0 ? 'prod' : 'staging', owner: `team-${s % 10}` },
      });
    }
  }
  return names;
}

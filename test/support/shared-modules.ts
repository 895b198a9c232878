/**
 * The handler tests load the handler in an isolated module registry per configuration (it reads its
 * environment once), which would also load other copies of the SDK client packages than the ones the
 * fakes mock. A test file shares them with
 * `jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'))`.
 */
export function sharedModule(name: string): unknown {
  const cache: Map<string, unknown> = ((globalThis as any).__cdkEcsOpsSharedModules ??= new Map());
  if (!cache.has(name)) cache.set(name, jest.requireActual(name));
  return cache.get(name);
}

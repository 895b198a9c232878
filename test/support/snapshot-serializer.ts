/**
 * Jest snapshot serializer that masks CDK asset hashes.
 *
 * Asset hashes (64 hex characters: the SHA-256 of an asset's source) change
 * whenever a handler bundle, the CDK version or the build machine changes, so
 * a snapshot that keeps them fails for reasons that say nothing about the
 * construct. This serializer replaces every 64-hex run in a string with
 * {@link HASH_MASK} and leaves everything else, including the rest of the
 * string, as it was:
 *
 * - `S3Key: '3f2a...e9.zip'`                          -> `'[HASH REMOVED].zip'`
 * - `'AssetParameters3f2a...e9S3BucketABCD1234'`      -> `'AssetParameters[HASH REMOVED]S3BucketABCD1234'`
 * - `'cdk-hnb659fds-container-assets-...:3f2a...e9'`  -> `'cdk-hnb659fds-container-assets-...:[HASH REMOVED]'`
 * - `'asset.3f2a...e9'` (aws:asset:path metadata)     -> `'asset.[HASH REMOVED]'`
 *
 * Bucket names such as `cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}`
 * contain no hash and are printed unchanged.
 *
 * It is registered for every test file in the jest configuration
 * (`snapshotSerializers`), and can be added by hand too:
 *
 * ```ts
 * import * as assetHashSerializer from '../support/snapshot-serializer';
 * expect.addSnapshotSerializer(assetHashSerializer);
 * ```
 *
 * Modelled on cdklabs/cdk-monitoring-constructs `test/setup`, but it masks the
 * hash wherever it appears in a string, not only before `.zip`.
 *
 * @module
 */

type NewPlugin = Extract<jest.SnapshotSerializerPlugin, { serialize: unknown }>;

/** What a masked hash is replaced with. Contains no hex run, so masked output never matches {@link test} again. */
export const HASH_MASK = '[HASH REMOVED]';

/** 64 hex characters: a SHA-256 asset hash. Not anchored, so hashes glued to other text (`AssetParameters<hash>S3Bucket`) are found too. */
const HASH_PATTERN = /[A-Fa-f0-9]{64}/;
const HASH_PATTERN_GLOBAL = new RegExp(HASH_PATTERN.source, 'g');

/**
 * Replace every 64-hex asset hash in `value` with {@link HASH_MASK}.
 *
 * A run of more than 64 hex characters is masked in 64-character chunks, so no
 * 64-hex run survives and the result is stable.
 *
 * @example maskAssetHashes('0a1b...(64 hex).zip') // '[HASH REMOVED].zip'
 */
export function maskAssetHashes(value: string): string {
  return value.replace(HASH_PATTERN_GLOBAL, HASH_MASK);
}

/**
 * Jest calls this for every value it prints; the serializer only claims strings that contain a hash.
 */
export const test: NewPlugin['test'] = (val: unknown): boolean =>
  typeof val === 'string' && HASH_PATTERN.test(val);

/**
 * Print the string with its hashes masked, through jest's own printer so that
 * quoting and escaping match every other string in the snapshot. The masked
 * string no longer passes {@link test}, so the printer does not come back here.
 */
export const serialize: NewPlugin['serialize'] = (val, config, indentation, depth, refs, printer) =>
  printer(maskAssetHashes(val as string), config, indentation, depth, refs);

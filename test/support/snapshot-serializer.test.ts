import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HASH_MASK, maskAssetHashes, serialize, test as claims } from './snapshot-serializer';

const HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const OTHER_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

describe('maskAssetHashes', () => {
  test('masks a 64-hex hash wherever it is in the string', () => {
    expect(maskAssetHashes(`${HASH}.zip`)).toBe('[HASH REMOVED].zip');
    expect(maskAssetHashes(`AssetParameters${HASH}S3BucketABCD1234`)).toBe('AssetParameters[HASH REMOVED]S3BucketABCD1234');
    expect(maskAssetHashes(`AssetParameters${HASH}ArtifactHash0A1B2C3D`)).toBe('AssetParameters[HASH REMOVED]ArtifactHash0A1B2C3D');
    expect(maskAssetHashes(`cdk-hnb659fds-container-assets-123456789012-us-east-1:${HASH}`))
      .toBe('cdk-hnb659fds-container-assets-123456789012-us-east-1:[HASH REMOVED]');
    expect(maskAssetHashes(`asset.${HASH}/index.js and asset.${OTHER_HASH.toUpperCase()}`)).toBe('asset.[HASH REMOVED]/index.js and asset.[HASH REMOVED]');
  });

  test('leaves strings without a hash alone', () => {
    for (const s of [
      'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}',
      'MyFunctionServiceRole3C357FF2',
      HASH.slice(1), // 63 hex characters
      'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef',
      '',
    ]) {
      expect(maskAssetHashes(s)).toBe(s);
    }
  });

  test('leaves no 64-hex run in a longer hex run', () => {
    const masked = maskAssetHashes(HASH + OTHER_HASH + 'abc');
    expect(masked).toBe(`${HASH_MASK}${HASH_MASK}abc`);
    expect(claims(masked)).toBe(false);
  });
});

describe('serializer plugin', () => {
  test('claims only strings that contain a hash', () => {
    expect(claims(`${HASH}.zip`)).toBe(true);
    expect(claims('plain')).toBe(false);
    expect(claims(HASH.slice(1))).toBe(false);
    expect(claims({ S3Key: `${HASH}.zip` })).toBe(false); // objects are walked by jest; their strings come back one by one
    expect(claims(12345)).toBe(false);
    expect(claims(undefined)).toBe(false);
  });

  test('hands the masked string back to jest\'s printer once, and the printer does not come back to it', () => {
    const printed: unknown[] = [];
    const printer = (val: unknown) => {
      printed.push(val);
      return claims(val) ? 'LOOP' : JSON.stringify(val);
    };
    const config = {} as Parameters<typeof serialize>[1];

    expect(serialize(`${HASH}.zip`, config, '', 0, [], printer)).toBe('"[HASH REMOVED].zip"');
    expect(printed).toEqual(['[HASH REMOVED].zip']);
  });

  test('masks hashes in a snapshot and leaves the other values as they are', () => {
    expect({
      S3Key: `${HASH}.zip`,
      Image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-us-east-1:${OTHER_HASH}`,
      LogicalId: 'MyFunctionServiceRole3C357FF2',
      Short: HASH.slice(1),
      Count: 3,
    }).toMatchInlineSnapshot(`
{
  "Count": 3,
  "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-us-east-1:[HASH REMOVED]",
  "LogicalId": "MyFunctionServiceRole3C357FF2",
  "S3Key": "[HASH REMOVED].zip",
  "Short": "3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
`);
  });

  test('masks the asset hash of a synthesized Lambda function, which changes with its code', () => {
    const codeOf = (source: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serializer-test-'));
      fs.writeFileSync(path.join(dir, 'index.js'), source);
      try {
        const stack = new Stack(new App(), 'Test');
        new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(dir) });
        const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
        return Object.values(fns)[0].Properties.Code;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const one = codeOf('exports.handler = async () => 1;');
    const two = codeOf('exports.handler = async () => 2;');

    expect(one.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(two.S3Key).not.toBe(one.S3Key); // the raw template would break the snapshot on every code change
    expect(one).toMatchInlineSnapshot(`
{
  "S3Bucket": {
    "Fn::Sub": "cdk-hnb659fds-assets-\${AWS::AccountId}-\${AWS::Region}",
  },
  "S3Key": "[HASH REMOVED].zip",
}
`);
    expect(two).toMatchInlineSnapshot(`
{
  "S3Bucket": {
    "Fn::Sub": "cdk-hnb659fds-assets-\${AWS::AccountId}-\${AWS::Region}",
  },
  "S3Key": "[HASH REMOVED].zip",
}
`);
  });
});

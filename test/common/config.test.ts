import { ConfigError, env, once, readConfig } from '../../lambda/common/config';

describe('readConfig', () => {
  const spec = {
    CLUSTERS: env.list({ minItems: 1 }),
    FAIL_AFTER: env.int({ min: 1, max: 100, default: 2 }),
    ACTION: env.oneOf(['SET_UNHEALTHY', 'NOTIFY_ONLY'] as const, { default: 'SET_UNHEALTHY' }),
    DRY: env.bool({ default: false }),
    TABLE: env.string({ pattern: /^[\w.-]{3,255}$/, patternHint: 'a DynamoDB table name' }),
    CHANNELS: env.json<unknown[]>((v) => (Array.isArray(v) ? undefined : 'expected a JSON array'), { default: [] }),
  };

  test('reads and types every variable, with defaults for unset ones', () => {
    // Prepare
    const source = { CLUSTERS: 'prod, staging,,', TABLE: 'counts', DRY: 'true' };

    // Act
    const config = readConfig(spec, source);

    // Assess
    expect(config).toEqual({ CLUSTERS: ['prod', 'staging'], FAIL_AFTER: 2, ACTION: 'SET_UNHEALTHY', DRY: true, TABLE: 'counts', CHANNELS: [] });
  });

  test('fails with one error that names every bad variable, its value and what is allowed', () => {
    const source = { CLUSTERS: ' ', FAIL_AFTER: '2.5', ACTION: 'REBOOT', DRY: 'yes', TABLE: 'a b', CHANNELS: '{"x":1}' };

    let error: ConfigError | undefined;
    try {
      readConfig(spec, source);
    } catch (e) {
      error = e as ConfigError;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'CLUSTERS is not set',
      'FAIL_AFTER is "2.5"; expected a whole number from 1 to 100',
      'ACTION is "REBOOT"; expected one of SET_UNHEALTHY, NOTIFY_ONLY',
      'DRY is "yes"; expected "true" or "false"',
      'TABLE is "a b"; expected a DynamoDB table name',
      'CHANNELS: expected a JSON array',
    ]);
    expect(error!.message).toContain('- FAIL_AFTER is "2.5"');
  });

  test('fails on integers out of range and on malformed JSON', () => {
    expect(() => readConfig({ N: env.int({ min: 1, max: 5 }) }, { N: '0' })).toThrow('N is "0"; expected a whole number from 1 to 5');
    expect(() => readConfig({ J: env.json(() => undefined) }, { J: '{oops' })).toThrow('J is not valid JSON');
  });

  test('a list shorter than required names the variable', () => {
    expect(() => readConfig({ L: env.list({ minItems: 2 }) }, { L: 'one' })).toThrow('L is "one"; expected at least 2 comma-separated item(s)');
  });
});

describe('once', () => {
  test('reads once and returns the same value after', () => {
    const read = jest.fn(() => ({ n: 1 }));
    const get = once(read);
    expect(get()).toBe(get());
    expect(read).toHaveBeenCalledTimes(1);
  });

  test('remembers a configuration error instead of re-reading', () => {
    const read = jest.fn(() => {
      throw new ConfigError(['X is not set']);
    });
    const get = once(read);
    expect(get).toThrow('X is not set');
    expect(get).toThrow('X is not set');
    expect(read).toHaveBeenCalledTimes(1);
  });
});

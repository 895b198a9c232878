/**
 * The event pattern matcher against the examples of the EventBridge User Guide's content filtering, and real ECS
 * events from the fixtures.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { matchesEventPattern } from './event-pattern';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'aws', 'eventbridge-ecs', name), 'utf8'));

describe('matchesEventPattern', () => {
  const stopped = fixture('task-state-change-ec2-stopped-user-initiated.json');
  const running = fixture('task-state-change-ec2-running-2025.json');

  test('matches exact values, any of a list, in nested objects', () => {
    const pattern = { 'source': ['aws.ecs'], 'detail-type': ['ECS Task State Change'], 'detail': { lastStatus: ['STOPPED', 'DEPROVISIONING'] } };
    expect(matchesEventPattern(pattern, stopped)).toBe(true);
    expect(matchesEventPattern(pattern, running)).toBe(false);
  });

  test('a field the pattern names must be in the event, unless it asks for exists: false', () => {
    expect(matchesEventPattern({ detail: { stopCode: ['UserInitiated'] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ 'anything-but': 'UserInitiated' }] } }, running)).toBe(false);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: false }] } }, running)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: true }] } }, stopped)).toBe(true);
    // exists applies to leaves: an object is not one
    expect(matchesEventPattern({ detail: { overrides: [{ exists: true }] } }, stopped)).toBe(false);
  });

  test('prefix, suffix, wildcard and anything-but (values, lists, prefix)', () => {
    expect(matchesEventPattern({ detail: { clusterArn: [{ prefix: 'arn:aws:ecs:eu-west-1:' }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { group: [{ suffix: ':Webapp' }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ resources: [{ wildcard: 'arn:aws:ecs:*:task/Features/*' }] }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { stoppedReason: [{ 'anything-but': { prefix: 'Task stopped' } }] } }, stopped)).toBe(false);
    expect(matchesEventPattern({ detail: { stoppedReason: [{ 'anything-but': { prefix: 'Scaling activity initiated by' } }] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { lastStatus: [{ 'anything-but': ['STOPPED', 'RUNNING'] }] } }, stopped)).toBe(false);
  });

  test('an event array matches when any element does; numbers compare as numbers', () => {
    expect(matchesEventPattern({ detail: { containers: { exitCode: [0] } } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { containers: { name: ['web'] } } }, running)).toBe(true);
    expect(matchesEventPattern({ detail: { version: [7] } }, stopped)).toBe(true);
    expect(matchesEventPattern({ detail: { version: ['7'] } }, stopped)).toBe(false);
  });

  test('$or matches when any of its patterns does', () => {
    const pattern = {
      detail: {
        $or: [
          { stoppedReason: [{ exists: false }] },
          { stoppedReason: [{ 'anything-but': { prefix: 'Scaling activity initiated by' } }] },
        ],
      },
    };
    expect(matchesEventPattern(pattern, stopped)).toBe(true);
    expect(matchesEventPattern(pattern, running)).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)' } })).toBe(false);
  });

  test('fails loudly on what it does not model', () => {
    expect(() => matchesEventPattern({ detail: { version: [{ numeric: ['>', 1] }] } }, stopped)).toThrow(/numeric is not modelled/);
    expect(() => matchesEventPattern({ detail: { version: 7 } }, stopped)).toThrow(/lists or objects/);
  });
});

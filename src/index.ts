export * from './common';
export * from './ecs-agent-monitor';

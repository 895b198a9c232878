export * from './common';
export * from './ecs-agent-monitor';
export * from './ecs-task-runner';

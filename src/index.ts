export * from './common';
export * from './ecs-agent-monitor';
export * from './ecs-status-api';
export * from './ecs-agent-updater';
export * from './ecs-parrot';
export * from './ecs-task-runner';

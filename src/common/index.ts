export * from './notification-channel';

export * from './hardening-props';
export * from './notification-channel';

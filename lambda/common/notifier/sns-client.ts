/**
 * The part of the SNS client the notifier uses. Loaded with `import()` on first use, this module becomes a chunk of
 * its own holding only `Publish`: an `import()` of the whole package would keep every SNS command.
 */
export { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

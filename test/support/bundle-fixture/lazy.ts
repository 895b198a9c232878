/** Imported only on the handler's `notify` path, so a split ESM bundle ships it (and the SNS client) as a lazy chunk. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

const sns = new SNSClient({});

export async function notify(message: string): Promise<string | undefined> {
  const published = await sns.send(new PublishCommand({ TopicArn: process.env.TOPIC_ARN, Subject: 'cdk-ecs-ops', Message: message }));
  return published.MessageId;
}

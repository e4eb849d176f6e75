import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { StackContext } from "sst/constructs";
import { applyStackSuppressions } from "./defaults";

/**
 * The one SNS topic every alarm of the platform notifies (stack "Alerts", before the stacks whose
 * alarms use it: the Stream stack's redrive alarms, the Monitoring stack's). Operators subscribe to it
 * (output AlarmTopicArn), or give an address at deploy (`AGENTORG_ALARM_EMAIL`).
 */

/** Loose on purpose: SNS checks the address itself and asks the owner to confirm it. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The address subscribed to the alarm topic, from `AGENTORG_ALARM_EMAIL` at deploy; none when unset.
 * Fails synthesis, naming the variable, on something that is not an address: a typo would otherwise
 * leave the operators without alarms and nobody would know until the first incident.
 */
export function alarmEmail(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.AGENTORG_ALARM_EMAIL?.trim();
  if (!value) return undefined;
  if (!EMAIL.test(value)) throw new Error(`AGENTORG_ALARM_EMAIL must be one e-mail address, not '${value}'.`);
  return value;
}

export function Alerts({ stack }: StackContext) {
  // CloudWatch can only publish to an encrypted topic through a customer managed key whose policy lets
  // it use the key (the AWS managed SNS key does not).
  const key = new Key(stack, "AlarmTopicKey", { enableKeyRotation: true, description: "agentorg operator alarms topic" });
  key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
  const topic = new Topic(stack, "AlarmTopic", { masterKey: key, enforceSSL: true, displayName: "agentorg operator alarms" });
  const email = alarmEmail();
  // SNS mails a confirmation link first; nothing is delivered until the owner follows it.
  if (email) topic.addSubscription(new EmailSubscription(email));
  applyStackSuppressions(stack);
  stack.addOutputs({ AlarmTopicArn: topic.topicArn });
  return { topic };
}

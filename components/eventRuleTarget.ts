import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic } from "./alertTopic";
import { denyInsecureTransport, policyDocument, PolicyStatement } from "./policy";
import { alarmOnFirst } from "./secureCallbackFunction";

/**
 * How long and how often EventBridge retries a target before it gives up on an event: EventBridge's own defaults
 * (24 hours, 185 attempts, the largest values it accepts), written out so that a change of default cannot shorten
 * them unnoticed. Errors that retrying cannot fix (a missing permission, a deleted target) are not retried: such
 * events go to the dead-letter queue at once.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html
 * and https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html
 */
export const EVENTBRIDGE_RETRY_POLICY = { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 } as const;

/** 14 days, the longest SQS keeps a message, as for the functions' own dead-letter queues. */
export const UNDELIVERED_RETENTION_SECONDS = 1209600;

export interface DeliveredRuleTargetArgs {
  /** The rule whose target this is; its dead-letter queue admits this rule only. */
  rule: aws.cloudwatch.EventRule;
  /** What the rule is for, in the alarm description, for example `S3 downloads of download-alerts`. */
  purpose: string;
  /** The target's ARN (a function, an event bus). */
  arn: pulumi.Input<string>;
  /** The role EventBridge assumes to reach the target (event bus targets). @default - none */
  roleArn?: pulumi.Input<string>;
  /**
   * The rule's Region, when it is not the provider's. The queue and its alarm are created there too: EventBridge
   * accepts only a dead-letter queue in the rule's own Region.
   * @default - the provider's Region
   */
  region?: string;
  /**
   * Where the queue's alarm notifies. Leave it out for a rule outside the topic's Region: a CloudWatch alarm can
   * notify only a topic in its own Region, so that alarm shows in its Region's console and notifies nobody.
   * @default - the alarm has no action
   */
  alertTopic?: AlertTopic;
  /** Names of the target and of the queue (which its policy and alarm share). */
  names: { target: string; deadLetters: string };
}

/** The target and what keeps the events EventBridge could not deliver to it. */
export interface DeliveredRuleTarget {
  target: aws.cloudwatch.EventTarget;
  /** Standard queue, SSE-SQS, 14 days; only EventBridge, for this rule, may send to it. */
  deadLetterQueue: aws.sqs.Queue;
  deadLetterQueuePolicy: aws.sqs.QueuePolicy;
  /** Fires on the first message in the queue. */
  deadLettersAlarm: aws.cloudwatch.MetricAlarm;
}

/**
 * A rule's target that loses no event: an explicit retry policy ({@link EVENTBRIDGE_RETRY_POLICY}) and a dead-letter
 * queue for the events EventBridge still cannot deliver (missing permission, target gone, throttling or a failing
 * cross-Region forward beyond the retries), with an alarm on its first message.
 *
 * The queue is the rule's own, not the function's dead-letter queue: EventBridge requires a queue in the rule's Region
 * (a rule outside the function's Region cannot use it), the two hold different records (EventBridge's event with
 * RULE_ARN, TARGET_ARN and ERROR_CODE attributes, Lambda's invocation record) that are redriven differently, and each
 * alarm can then say which delivery failed. SQS-managed encryption (SSE-SQS) needs no key policy; a queue encrypted
 * with a customer managed key would need one letting EventBridge use the key.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html (same Region, queue policy, message
 * attributes) and https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#compatibility-with-aws-services
 */
export function deliveredRuleTarget(args: DeliveredRuleTargetArgs, opts: { parent: pulumi.Resource; dependsOn?: pulumi.Resource[] }): DeliveredRuleTarget {
  const { rule, purpose, arn, roleArn, region, alertTopic, names } = args;
  const inRegion = region === undefined ? {} : { region };
  const child = { parent: opts.parent };

  const deadLetterQueue = new aws.sqs.Queue(names.deadLetters, { ...inRegion, sqsManagedSseEnabled: true, messageRetentionSeconds: UNDELIVERED_RETENTION_SECONDS }, child);
  const deadLetterQueuePolicy = new aws.sqs.QueuePolicy(
    names.deadLetters,
    { ...inRegion, queueUrl: deadLetterQueue.url, policy: policyDocument(deadLetterQueueStatements(deadLetterQueue.arn, rule.arn)) },
    child,
  );
  const deadLettersAlarm = alarmOnFirst(
    names.deadLetters,
    {
      ...inRegion,
      alarmDescription: pulumi.interpolate`Events that EventBridge could not deliver to the target of rule ${rule.name} (${purpose}) are waiting in SQS queue ${deadLetterQueue.name}${region === undefined ? "" : ` in ${region}`}: alerts may have been missed. Each message's attributes give the error (ERROR_CODE, ERROR_MESSAGE). Fix the cause, then inspect and redrive them within 14 days.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: deadLetterQueue.name },
      statistic: "Maximum",
      period: 300,
    },
    alertTopic === undefined ? [] : [alertTopic.topicArn],
    child,
  );
  const target = new aws.cloudwatch.EventTarget(
    names.target,
    {
      ...inRegion,
      rule: rule.name,
      arn,
      ...(roleArn === undefined ? {} : { roleArn }),
      retryPolicy: { ...EVENTBRIDGE_RETRY_POLICY },
      deadLetterConfig: { arn: deadLetterQueue.arn },
    },
    // EventBridge may need the queue as soon as the target exists.
    { parent: opts.parent, dependsOn: [...(opts.dependsOn ?? []), deadLetterQueuePolicy] },
  );
  return { target, deadLetterQueue, deadLetterQueuePolicy, deadLettersAlarm };
}

/**
 * The policy of a rule's dead-letter queue: EventBridge may send messages to it for that rule only, and nobody may
 * use it without TLS. See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 */
export function deadLetterQueueStatements(queueArn: pulumi.Input<string>, ruleArn: pulumi.Input<string>): PolicyStatement[] {
  return [
    {
      Sid: "KeepUndeliveredEvents",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    },
    denyInsecureTransport("sqs", [queueArn]),
  ];
}

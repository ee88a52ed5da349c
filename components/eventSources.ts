import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { RecordPattern } from "../functions/shared/recordPattern";
import { AlertTopic } from "./alertTopic";
import type { DispatchConnection, LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import { denyInsecureTransport, policyDocument, PolicyStatement } from "./policy";
import { alarmToTopic } from "./secureCallbackFunction";

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
   * What the target receives instead of the event. See
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
   * @default - the event as it is
   */
  inputTransformer?: { inputPaths: Record<string, string>; inputTemplate: string };
  /**
   * The rule's Region, when it is not the provider's. The queue and its alarm are created there too: EventBridge
   * accepts only a dead-letter queue in the rule's own Region.
   * @default - the provider's Region
   */
  region?: string;
  /**
   * Where the queue's alarm notifies. A CloudWatch alarm can notify only a topic in its own Region: outside the
   * topic's Region the alarm's state changes are forwarded to it ({@link AlertTopic.forwardAlarm}).
   * @default - the alarm has no action
   */
  alertTopic?: AlertTopic;
  /**
   * Names of the target and of the queue (which its policy and alarm share); `deadLettersAlarmName` fixes the alarm's
   * physical name, so that its ARN is known before it exists.
   */
  names: { target: string; deadLetters: string; deadLettersAlarmName?: string };
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
  const { rule, purpose, arn, roleArn, inputTransformer, region, alertTopic, names } = args;
  const inRegion = region === undefined ? {} : { region };
  const child = { parent: opts.parent };

  const deadLetterQueue = new aws.sqs.Queue(names.deadLetters, { ...inRegion, sqsManagedSseEnabled: true, messageRetentionSeconds: UNDELIVERED_RETENTION_SECONDS }, child);
  const deadLetterQueuePolicy = new aws.sqs.QueuePolicy(
    names.deadLetters,
    { ...inRegion, queueUrl: deadLetterQueue.url, policy: policyDocument(deadLetterQueueStatements(deadLetterQueue.arn, rule.arn)) },
    child,
  );
  const deadLettersAlarm = alarmToTopic(
    names.deadLetters,
    {
      ...inRegion,
      ...(names.deadLettersAlarmName === undefined ? {} : { name: names.deadLettersAlarmName }),
      alarmDescription: pulumi.interpolate`Events that EventBridge could not deliver to the target of rule ${rule.name} (${purpose}) are waiting in SQS queue ${deadLetterQueue.name}${region === undefined ? "" : ` in ${region}`}: alerts may have been missed. Each message's attributes give the error (ERROR_CODE, ERROR_MESSAGE). Fix the cause, then inspect and redrive them within 14 days.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: deadLetterQueue.name },
      statistic: "Maximum",
      period: 300,
    },
    alertTopic,
    child,
  );
  const target = new aws.cloudwatch.EventTarget(
    names.target,
    {
      ...inRegion,
      rule: rule.name,
      arn,
      ...(roleArn === undefined ? {} : { roleArn }),
      ...(inputTransformer === undefined ? {} : { inputTransformer }),
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

/**
 * What an event source needs of the function it invokes (aws-cdk-lib's `IFunction` as `IEventSource.bind` sees it);
 * a {@link SecureCallbackFunction} is one.
 */
export interface InvokedFunction {
  /** The function's name, which its invoke permission names. */
  functionName: pulumi.Input<string>;
  /** The function's ARN, where events are sent. */
  functionArn: pulumi.Input<string>;
}

/** The rule of an {@link EventRuleSource}. */
export interface EventRuleSourceArgs {
  /**
   * The Region the rule is created in. CloudTrail delivers an event to EventBridge only in the Region where the call
   * was recorded. See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html
   * @default - the provider's Region
   */
  region?: string;
  description: pulumi.Input<string>;
  /** See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html */
  eventPattern: pulumi.Input<string>;
  /**
   * `ENABLED`, or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` for a rule that must also see read-only management
   * events. See https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
   */
  state: pulumi.Input<string>;
}

/** How a rule's target is delivered to: see {@link deliveredRuleTarget}. */
export interface RuleDeliveryArgs {
  /** What the rule is for, in the dead-letter queue's alarm description. */
  purpose: string;
  /**
   * Where the dead-letter queue's alarm notifies: directly in the topic's Region, through forwarding elsewhere
   * ({@link AlertTopic.forwardAlarm}).
   * @default - the alarm has no action
   */
  alertTopic?: AlertTopic;
  /** Names of the target and of its dead-letter queue (which the queue's policy and alarm share); see {@link DeliveredRuleTargetArgs.names}. */
  names: { target: string; deadLetters: string; deadLettersAlarmName?: string };
}

/** How a function is bound to a rule: the delivery, and the name of the invoke permission. */
export interface EventRuleBindArgs extends RuleDeliveryArgs {
  names: { permission: string; target: string; deadLetters: string };
}

/** What binding a function to an {@link EventRuleSource} created. */
export interface EventRuleBinding extends DeliveredRuleTarget {
  /** Lets this rule, and nothing else, invoke the function. */
  permission: aws.lambda.Permission;
}

/**
 * An EventBridge rule on the default event bus of a Region, as an event source: created first, then bound to the
 * function it invokes ({@link bind}) or to another Region's event bus it forwards to ({@link forward}). Either way its
 * target has EventBridge's retry policy written out and a dead-letter queue of its own in the rule's Region, with an
 * alarm (see {@link deliveredRuleTarget}). Its resources are children of `opts.parent`, named as given.
 */
export class EventRuleSource {
  readonly rule: aws.cloudwatch.EventRule;
  /** The rule's Region; undefined for the provider's. */
  readonly region?: string;
  private readonly parent: pulumi.Resource;

  constructor(name: string, args: EventRuleSourceArgs, opts: { parent: pulumi.Resource }) {
    const { region, description, eventPattern, state } = args;
    this.parent = opts.parent;
    this.region = region;
    this.rule = new aws.cloudwatch.EventRule(name, { ...(region === undefined ? {} : { region }), description, eventPattern, state }, { parent: opts.parent });
  }

  /** Makes the rule invoke `fn`: a permission for this rule only, then the delivered target. */
  bind(fn: InvokedFunction, args: EventRuleBindArgs): EventRuleBinding {
    const { purpose, alertTopic, names } = args;
    const permission = new aws.lambda.Permission(
      names.permission,
      {
        action: "lambda:InvokeFunction",
        function: fn.functionName,
        principal: "events.amazonaws.com",
        // Only this rule may invoke the function.
        sourceArn: this.rule.arn,
      },
      { parent: this.parent },
    );
    const delivered = this.deliver({ arn: fn.functionArn, purpose, alertTopic, names: { target: names.target, deadLetters: names.deadLetters } }, [permission]);
    return { permission, ...delivered };
  }

  /**
   * Makes the rule forward its events to an event bus (another Region's default bus) through a role that may put
   * events there. `opts.dependsOn` holds what must exist before the first event is forwarded (the role's policy).
   */
  forward(bus: { arn: pulumi.Input<string>; roleArn: pulumi.Input<string> }, args: RuleDeliveryArgs, opts: { dependsOn?: pulumi.Resource[] } = {}): DeliveredRuleTarget {
    return this.deliver({ ...args, arn: bus.arn, roleArn: bus.roleArn }, opts.dependsOn ?? []);
  }

  /**
   * Makes the rule publish its events to the alert topic (transformed by `args.inputTransformer`): the topic's policy
   * lets EventBridge publish for this rule only, and its key lets EventBridge encrypt ({@link AlertTopic.allowEventRule}).
   * The rule must be in the topic's Region.
   */
  publishTo(alertTopic: AlertTopic, args: RuleDeliveryArgs & Pick<DeliveredRuleTargetArgs, "inputTransformer">): DeliveredRuleTarget {
    alertTopic.allowEventRule(this.rule.arn);
    return this.deliver({ ...args, arn: alertTopic.topicArn }, []);
  }

  private deliver(args: Omit<DeliveredRuleTargetArgs, "rule" | "region">, dependsOn: pulumi.Resource[]): DeliveredRuleTarget {
    const inRegion = this.region === undefined ? {} : { region: this.region };
    // The target is used as soon as it exists: what `dependsOn` holds (the permission, the role's policy) comes first.
    return deliveredRuleTarget({ ...args, rule: this.rule, ...inRegion }, { parent: this.parent, dependsOn });
  }
}

/** The log group of a {@link LogSubscriptionSource}. */
export interface LogSubscriptionSourceArgs {
  /** The log group, for example `AuditTrail.logGroupName`. */
  logGroupName: pulumi.Input<string>;
  /** Its ARN without the `:*` suffix, for example `AuditTrail.logGroupArn`. */
  logGroupArn: pulumi.Input<string>;
  /** See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html */
  filterPattern: pulumi.Input<string>;
  /** The account the log group is in: only it may invoke the function (`sourceAccount`). */
  accountId: pulumi.Input<string>;
}

/** What binding a function to a {@link LogSubscriptionSource} created. */
export interface LogSubscriptionBinding {
  /** Lets this log group, in its account, and nothing else invoke the function. */
  permission: aws.lambda.Permission;
  subscriptionFilter: aws.cloudwatch.LogSubscriptionFilter;
}

/**
 * A subscription filter on a CloudWatch Logs group, as an event source: binding a function creates the filter and the
 * permission it needs. A log group accepts two subscription filters; consumers that share one use a
 * {@link LogSubscriptionDispatcher} ({@link DispatcherRoute}).
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample
 */
export class LogSubscriptionSource {
  private readonly parent: pulumi.Resource;

  constructor(
    private readonly args: LogSubscriptionSourceArgs,
    opts: { parent: pulumi.Resource },
  ) {
    this.parent = opts.parent;
  }

  /** Subscribes `fn` to the log group; `names` name the permission and the filter. */
  bind(fn: InvokedFunction, names: { permission: string; subscription: string }): LogSubscriptionBinding {
    const { logGroupName, logGroupArn, filterPattern, accountId } = this.args;
    const permission = new aws.lambda.Permission(
      names.permission,
      {
        action: "lambda:InvokeFunction",
        function: fn.functionName,
        principal: "logs.amazonaws.com",
        // Only this log group, in this account, may invoke the function.
        sourceArn: pulumi.interpolate`${logGroupArn}:*`,
        sourceAccount: accountId,
      },
      { parent: this.parent },
    );
    const subscriptionFilter = new aws.cloudwatch.LogSubscriptionFilter(
      names.subscription,
      { logGroup: logGroupName, filterPattern, destinationArn: fn.functionArn },
      // CloudWatch Logs test-invokes the destination when the filter is created: the permission must exist first.
      { parent: this.parent, dependsOn: [permission] },
    );
    return { permission, subscriptionFilter };
  }
}

/**
 * A route on a shared {@link LogSubscriptionDispatcher}, as an event source: binding a function connects it as the
 * consumer `route.key` of the records `route.patterns` select. The dispatcher creates the consumer's SNS subscription
 * (`${key}-dispatch`) and invoke permission (`${key}-dispatch-permission`) as children of `opts.parent`.
 */
export class DispatcherRoute {
  private readonly parent: pulumi.Resource;

  constructor(
    private readonly dispatcher: LogSubscriptionDispatcher,
    private readonly route: { key: string; patterns: RecordPattern[] },
    opts: { parent: pulumi.Resource },
  ) {
    this.parent = opts.parent;
  }

  /** Connects `fn` to the dispatcher; call it while constructing resources. */
  bind(fn: InvokedFunction): DispatchConnection {
    return this.dispatcher.connect(this.parent, this.route.key, { functionArn: fn.functionArn, patterns: this.route.patterns });
  }
}

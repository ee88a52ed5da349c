import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { CONSUMER_ATTRIBUTE, logDispatchCallbackFactory } from "../functions/logDispatch/handler";
import { type DispatchRoute, routesJson, toEnvironment } from "../functions/logDispatch/settings";
import { logsFilterPattern, MAX_LOGS_FILTER_PATTERN_LENGTH, type RecordPattern, recordPatternProblems } from "../functions/shared/recordPattern";
import { AlertTopic } from "./alertTopic";
import { awsEnvironment } from "./awsEnvironment";
import { Contributions } from "./contributions";
import { LogSubscriptionSource } from "./eventSources";
import { policyDocument } from "./policy";
import { SecureCallbackFunction } from "./secureCallbackFunction";
import { argProblems, isLogRetention, isNonEmptyString } from "./validation";

/**
 * Room for the consumers' routes in the dispatcher's environment. Lambda allows 4 KB for all variables together; the
 * rest is left for the topic ARN and the variable names.
 */
export const MAX_ROUTES_JSON_LENGTH = 3500;

export interface LogSubscriptionDispatcherArgs {
  /** The CloudWatch Logs group to subscribe to, for example `AuditTrail.logGroupName`. */
  logGroupName: pulumi.Input<string>;
  /** Its ARN without the `:*` suffix, for example `AuditTrail.logGroupArn`. */
  logGroupArn: pulumi.Input<string>;
  /** Topic for the dispatcher function's own alarms (errors, dead letters, rejected input). */
  alertTopic: AlertTopic;
  /**
   * The subscription filter pattern, used verbatim.
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
   * @default - built from the consumers' record patterns: it matches every record at least one consumer wants, and
   * every event when that would be longer than CloudWatch Logs' 1,024 characters
   */
  filterPattern?: string;
  /** Days the dispatcher function's own log group keeps its logs. @default 30 */
  logRetentionInDays?: number;
}

/** A consumer of the dispatcher. */
export interface DispatchConsumer {
  /** The consumer's function; it receives SNS deliveries of CloudWatch Logs subscription payloads. */
  functionArn: pulumi.Input<string>;
  /** The records it wants (alternatives); evaluated by the dispatcher, and again exactly by the consumer. */
  patterns: RecordPattern[];
}

/** What connecting a consumer created (as children of the consumer). */
export interface DispatchConnection {
  subscription: aws.sns.TopicSubscription;
  permission: aws.lambda.Permission;
}

/**
 * One CloudWatch Logs subscription filter on a log group (typically the trail's), shared by any number of consumers.
 *
 * CloudWatch Logs allows only two subscription filters per log group, so notifiers (and other log-driven alerts) on
 * one trail must not each add their own. The dispatcher owns the one filter and a small function behind it: the
 * function decodes each batch once, matches every CloudTrail record against each consumer's record patterns, and
 * publishes each consumer's share, as a CloudWatch Logs subscription payload, to an SNS topic with a `consumer`
 * message attribute. Each consumer is subscribed to that topic with a filter policy on its own key, so it is invoked
 * only with its records, in the same payload shape a direct subscription would give it.
 *
 * - The filter pattern is the OR of the consumers' patterns (see `logsFilterPattern`), so the dispatcher is invoked
 *   only for records some consumer wants.
 * - Only the dispatcher's role may publish to the topic (the topic policy denies every other principal), so nobody
 *   can inject fake CloudTrail records into the consumers. The topic is encrypted with the AWS managed key for SNS:
 *   only Lambda functions publish to it and subscribe to it, so no customer managed key is needed.
 * - Consumers are added with {@link connect} while constructing resources (before the program finishes), from the
 *   consumer's constructor; the subscription and the invoke permission become children of the consumer.
 *
 * Delivery is at least once: a failed publish fails the invocation and Lambda retries the whole batch; consumers must
 * (as with any subscription) tolerate a record twice.
 */
export class LogSubscriptionDispatcher extends pulumi.ComponentResource {
  /** The SNS topic consumers are subscribed to. */
  readonly topicArn: pulumi.Output<string>;
  /** The subscription filter pattern deployed on the log group ("" matches every event). */
  readonly filterPattern: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly subscriptionFilter: aws.cloudwatch.LogSubscriptionFilter;
  readonly handler: SecureCallbackFunction;

  private readonly name: string;
  private readonly routes: Contributions<DispatchRoute>;
  private readonly keys = new Set<string>();
  private routesLength = 2;

  constructor(name: string, args: LogSubscriptionDispatcherArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:LogSubscriptionDispatcher", name, {}, opts);
    LogSubscriptionDispatcher.validateArgs(name, args);
    const { logGroupName, logGroupArn, alertTopic, filterPattern, logRetentionInDays = 30 } = args;
    this.name = name;
    this.routes = new Contributions<DispatchRoute>(`LogSubscriptionDispatcher "${name}" consumers`);
    const env = awsEnvironment(this);
    const child = { parent: this };

    // AWS managed key: no key policy to manage, and nothing but Lambda publishes or subscribes.
    const topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: "alias/aws/sns" }, child);
    this.topicArn = topic.arn;

    this.handler = new SecureCallbackFunction(
      `${name}-handler`,
      {
        description: "Forwards CloudTrail records from one log subscription to the consumers that want them",
        callbackFactory: logDispatchCallbackFactory,
        statements: [{ Sid: "ForwardToConsumers", Effect: "Allow", Action: "sns:Publish", Resource: topic.arn }],
        alertTopic,
        environment: toEnvironment({ topicArn: topic.arn, routes: this.routes.all.apply(routesJson) }),
        logRetentionInDays,
        rejectedInputAlarm: { consequence: "the records in it reached no consumer" },
      },
      child,
    );
    this.functionName = this.handler.functionName;

    topicPolicy(name, topic, this.handler.roleArn, child);

    this.routes.all.apply((routes) => {
      if (routes.length === 0) {
        void pulumi.log.warn(`LogSubscriptionDispatcher "${name}" has no consumers: it would be invoked for every event of the log group and forward nothing. Connect a consumer or remove it.`, this);
      }
    });
    this.filterPattern =
      filterPattern === undefined ? this.routes.all.apply((routes) => logsFilterPattern(routes.flatMap((r) => r.patterns))) : pulumi.output(filterPattern);
    // Only this log group, in this account, may invoke the dispatcher.
    const logs = new LogSubscriptionSource({ logGroupName, logGroupArn, filterPattern: this.filterPattern, accountId: env.accountId }, child);
    this.subscriptionFilter = logs.bind(this.handler, { permission: `${name}-permission`, subscription: `${name}-filter` }).subscriptionFilter;

    this.registerOutputs({
      topicArn: this.topicArn,
      filterPattern: this.filterPattern,
      functionName: this.functionName,
      subscriptionFilter: this.subscriptionFilter,
      handler: this.handler,
    });
  }

  /**
   * Adds a consumer: the dispatcher forwards it the records matching `consumer.patterns`. Creates, as children of
   * `parent`, the consumer's SNS subscription (filtered on its key) and the permission that lets the topic invoke it.
   * Call it while constructing resources; `name` (the consumer's component name) is its key and must be unique.
   */
  connect(parent: pulumi.Resource, name: string, consumer: DispatchConsumer): DispatchConnection {
    const subject = `LogSubscriptionDispatcher "${this.name}"`;
    if (this.keys.has(name)) {
      throw new Error(`${subject}: a consumer named ${JSON.stringify(name)} is already connected; consumer names must be unique`);
    }
    const problems = consumer.patterns.length === 0 ? ["patterns must hold at least one pattern"] : consumer.patterns.flatMap((p, i) => recordPatternProblems(p, `patterns[${i}]`));
    if (problems.length > 0) {
      throw new Error(`${subject}: consumer ${JSON.stringify(name)}: ${problems.join("; ")}`);
    }
    const route: DispatchRoute = { key: name, patterns: consumer.patterns };
    const routesLength = this.routesLength + JSON.stringify(route).length + 1;
    if (routesLength > MAX_ROUTES_JSON_LENGTH) {
      throw new Error(
        `${subject}: connecting ${JSON.stringify(name)} makes the consumers' patterns ${routesLength} characters long; the dispatcher's ` +
          `environment holds at most ${MAX_ROUTES_JSON_LENGTH}. Use fewer or shorter patterns, or a second dispatcher on another log group.`,
      );
    }
    // Throws when called after construction, before anything is created for the consumer.
    this.routes.add(route);
    this.routesLength = routesLength;
    this.keys.add(name);

    const subscription = new aws.sns.TopicSubscription(
      `${name}-dispatch`,
      {
        topic: this.topicArn,
        protocol: "lambda",
        endpoint: consumer.functionArn,
        filterPolicyScope: "MessageAttributes",
        filterPolicy: JSON.stringify({ [CONSUMER_ATTRIBUTE]: [name] }),
      },
      { parent },
    );
    const permission = new aws.lambda.Permission(
      `${name}-dispatch-permission`,
      {
        action: "lambda:InvokeFunction",
        function: consumer.functionArn,
        principal: "sns.amazonaws.com",
        // Only the dispatch topic may invoke the consumer this way.
        sourceArn: this.topicArn,
      },
      { parent },
    );
    return { subscription, permission };
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: LogSubscriptionDispatcherArgs): void {
    argProblems(`LogSubscriptionDispatcher "${name}"`)
      .check("logGroupName", args.logGroupName, isNonEmptyString, "a log group name")
      .check("logGroupArn", args.logGroupArn, (v: string) => /^arn:aws[\w-]*:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+$/.test(v), "a log group ARN without the :* suffix")
      .check("filterPattern", args.filterPattern, (v: string) => v.length <= MAX_LOGS_FILTER_PATTERN_LENGTH, `a filter pattern of at most ${MAX_LOGS_FILTER_PATTERN_LENGTH} characters`)
      .check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods")
      .throwIfAny();
  }
}

/** The dispatch topic's policy: the dispatcher publishes, nobody else, and nothing without TLS. */
function topicPolicy(name: string, topic: aws.sns.Topic, dispatcherRoleArn: pulumi.Output<string>, opts: pulumi.CustomResourceOptions): aws.sns.TopicPolicy {
  return new aws.sns.TopicPolicy(
    `${name}-topic-policy`,
    {
      arn: topic.arn,
      policy: policyDocument([
        {
          Sid: "AllowDispatcher",
          Effect: "Allow",
          Principal: { AWS: dispatcherRoleArn },
          Action: "sns:Publish",
          Resource: topic.arn,
        },
        {
          // Forged records published by anyone else would reach the consumers as if CloudTrail had logged them.
          Sid: "DenyOtherPublishers",
          Effect: "Deny",
          Principal: "*",
          Action: "sns:Publish",
          Resource: topic.arn,
          Condition: { ArnNotEquals: { "aws:PrincipalArn": dispatcherRoleArn } },
        },
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: ["sns:Publish", "sns:Subscribe", "sns:SetTopicAttributes", "sns:GetTopicAttributes"],
          Resource: topic.arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]),
    },
    opts,
  );
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { adoptionProblems, adoptOrCreate, type Adoption } from "./adoptable";
import { AlarmForwarding, MAX_ALARM_FORWARDING_NAME_LENGTH } from "./alarmForwarding";
import { alertKeyStatements, type AlertTopicPolicyParams, alertTopicStatements } from "./alertTopicPolicies";
import { awsEnvironment, type AwsEnvironment } from "./awsEnvironment";
import { Contributions } from "./contributions";
import { policyDocument, PolicyStatement } from "./policy";
import { argProblems, isEmailAddress, isNonEmptyString } from "./validation";

/**
 * An extra subscription to the alert topic. `name` is a stable key: the subscription's Pulumi name is
 * `${topicName}-${name}`, so renaming it replaces the subscription.
 */
export type AlertSubscription =
  /** An HTTPS endpoint (a webhook). Plain `http://` is refused: alerts must not travel unencrypted. */
  | { name: string; protocol: "https"; endpoint: pulumi.Input<string> }
  /**
   * An SQS queue, by ARN. Its queue policy must allow `sns:SendMessage` from this topic, and a queue encrypted with a
   * customer managed key must let `sns.amazonaws.com` use that key.
   */
  | { name: string; protocol: "sqs"; endpoint: pulumi.Input<string>; rawMessageDelivery?: boolean }
  /** A Lambda function, by ARN; it needs a `lambda.Permission` for `sns.amazonaws.com` with this topic as source. */
  | { name: string; protocol: "lambda"; endpoint: pulumi.Input<string> };

/** Arguments shared by the create and adopt forms. */
interface AlertTopicCommonArgs {
  /**
   * Email addresses subscribed to the topic. Each receives a confirmation mail and gets alerts only after
   * confirming it. See https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
   * @default - no email subscriptions
   */
  emailAddresses?: string[];
  /** @default - no extra subscriptions */
  subscriptions?: AlertSubscription[];
}

/** Creates a topic. */
export interface AlertTopicCreateArgs extends AlertTopicCommonArgs {
  existingTopicArn?: never;
  existingTopicKmsKeyArn?: never;
  /**
   * The KMS key that encrypts messages at rest (ID, ARN or alias). A caller's key must let
   * `cloudwatch.amazonaws.com` call `kms:GenerateDataKey` and `kms:Decrypt`, or alarms cannot publish.
   * `alias/aws/sns` (the AWS managed key) is accepted with a warning: CloudWatch alarms cannot use it, so alarm
   * notifications would be dropped. See
   * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
   * @default - a customer managed key created for this topic, with rotation on and a key policy that lets this
   * account's CloudWatch alarms (and nothing else outside IAM) use it
   */
  kmsMasterKeyId?: pulumi.Input<string>;
  /**
   * Deny `sns:Publish` to every IAM principal other than the roles registered with {@link AlertTopic.allowPublisher}
   * (AWS services such as CloudWatch are governed by the allow statements only). It stops anyone with a broad
   * `sns:Publish` permission from injecting fake alerts. Set to false to let your own principals publish too.
   * @default true
   */
  restrictPublishers?: boolean;
  /** @default - the topic's Pulumi name with a random suffix */
  topicName?: pulumi.Input<string>;
}

/** Adopts an existing topic: subscriptions are added to it, its policy and encryption are left as they are. */
export interface AlertTopicAdoptArgs extends AlertTopicCommonArgs {
  /** ARN of the existing topic that alerts are sent to. */
  existingTopicArn: pulumi.Input<string>;
  /**
   * ARN of the customer managed key that encrypts the existing topic, so that publishers are granted
   * `kms:GenerateDataKey` and `kms:Decrypt` on it.
   * @default - publishers get no KMS permissions (right for unencrypted topics and `alias/aws/sns`)
   */
  existingTopicKmsKeyArn?: pulumi.Input<string>;
  kmsMasterKeyId?: never;
  restrictPublishers?: never;
  topicName?: never;
}

/** Create a topic, or adopt one by ARN: never both. */
export type AlertTopicArgs = AlertTopicCreateArgs | AlertTopicAdoptArgs;

const AWS_MANAGED_SNS_KEY = "alias/aws/sns";

/** AlertTopic's create-or-adopt arguments. */
const ALERT_TOPIC_ADOPTION: Adoption<"existingTopicArn"> = {
  existing: "existingTopicArn",
  resource: "topic",
  createOnly: ["kmsMasterKeyId", "restrictPublishers", "topicName"],
  adoptOnly: ["existingTopicKmsKeyArn"],
};

/** Each AlertTopic by its `topicArn` output, so that an alarm given that output can reach the topic from any Region. */
const TOPICS_BY_ARN_OUTPUT = new WeakMap<object, AlertTopic>();

/** The topic adopted or created. */
interface TopicParts {
  topicArn: pulumi.Output<string>;
  kmsKeyArn: pulumi.Output<string | undefined>;
  topic?: aws.sns.Topic;
  key?: aws.kms.Key;
  publishers?: Contributions<string>;
  /** Rules that publish to the topic (forwarded alarms); undefined for an adopted topic, whose policy is not managed. */
  eventRules?: Contributions<string>;
  /** True when the caller gave the key, whose policy is not managed here. */
  callerKey?: boolean;
}

/**
 * The SNS topic every alert of this project goes to: encrypted with KMS, publishable only by this account's
 * CloudWatch alarms and the project's own function roles, TLS only, with email and other subscriptions.
 * Or an existing topic adopted by ARN.
 */
export class AlertTopic extends pulumi.ComponentResource {
  /** ARN of the topic alerts are published to. */
  readonly topicArn: pulumi.Output<string>;
  /** ARN of the customer managed key that encrypts the topic, when there is one this component knows. */
  readonly kmsKeyArn: pulumi.Output<string | undefined>;
  /** The created topic; undefined when an existing topic was adopted. */
  readonly topic?: aws.sns.Topic;
  /** The created key; undefined when a caller key was given or a topic was adopted. */
  readonly key?: aws.kms.Key;

  /**
   * The topic's Region: the Region of an adopted topic's ARN, otherwise the stack's `aws:region`. Alarms elsewhere
   * reach the topic through {@link forwardAlarm}. Undefined when neither is known before deployment.
   */
  readonly region?: string;

  private readonly name: string;
  private readonly publishers?: Contributions<string>;
  private readonly eventRules?: Contributions<string>;
  private readonly callerKey: boolean;
  /** The forwarding of each other Region's alarms, created on first use. */
  private readonly forwardings: Record<string, AlarmForwarding> = {};

  constructor(name: string, args: AlertTopicArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:AlertTopic", name, {}, opts);
    AlertTopic.validateArgs(name, args);
    const { emailAddresses = [], subscriptions = [] } = args;
    this.name = name;
    this.region = typeof args.existingTopicArn === "string" ? args.existingTopicArn.split(":")[3] : aws.config.region;

    const parts: TopicParts = adoptOrCreate(args, ALERT_TOPIC_ADOPTION, {
      // An adopted topic keeps its policy and encryption: only subscriptions are added to it.
      adopt: (adopted) => ({ topicArn: pulumi.output(adopted.existingTopicArn), kmsKeyArn: pulumi.output(adopted.existingTopicKmsKeyArn) }),
      create: (created) => this.createTopic(name, created),
    });
    this.topicArn = parts.topicArn;
    TOPICS_BY_ARN_OUTPUT.set(this.topicArn, this);
    this.kmsKeyArn = parts.kmsKeyArn;
    this.topic = parts.topic;
    this.key = parts.key;
    this.publishers = parts.publishers;
    this.eventRules = parts.eventRules;
    this.callerKey = parts.callerKey ?? false;

    for (const address of emailAddresses) {
      new aws.sns.TopicSubscription(
        `${name}-email-${address}`,
        { topic: this.topicArn, protocol: "email", endpoint: address },
        { parent: this },
      );
    }
    for (const subscription of subscriptions) {
      new aws.sns.TopicSubscription(
        `${name}-${subscription.name}`,
        {
          topic: this.topicArn,
          protocol: subscription.protocol,
          endpoint: subscription.endpoint,
          ...(subscription.protocol === "sqs" && subscription.rawMessageDelivery !== undefined
            ? { rawMessageDelivery: subscription.rawMessageDelivery }
            : {}),
        },
        { parent: this },
      );
    }

    this.registerOutputs({ topicArn: this.topicArn, kmsKeyArn: this.kmsKeyArn, topic: this.topic, key: this.key });
  }

  private createTopic(name: string, args: AlertTopicCreateArgs): TopicParts {
    const { kmsMasterKeyId, restrictPublishers = true, topicName } = args;
    const env = awsEnvironment(this);
    // Only alarms of this account and region may use the key and the topic (confused-deputy protection).
    const fromThisAccountsAlarms = {
      StringEquals: { "aws:SourceAccount": env.accountId },
      ArnLike: { "aws:SourceArn": pulumi.interpolate`arn:${env.partition}:cloudwatch:${env.region}:${env.accountId}:alarm:*` },
    };
    // EventBridge rules of this account and Region that publish forwarded alarms (see forwardAlarm).
    const eventRules = new Contributions<string>(`AlertTopic "${name}" event rules`);
    const fromThisAccountsRules = {
      StringEquals: { "aws:SourceAccount": env.accountId },
      ArnLike: { "aws:SourceArn": pulumi.interpolate`arn:${env.partition}:events:${env.region}:${env.accountId}:rule/*` },
    };
    const { key, kmsKeyArn } = this.createOrFindKey(name, kmsMasterKeyId, env, fromThisAccountsAlarms, eventRules.all.apply((rules) => (rules.length === 0 ? undefined : fromThisAccountsRules)));

    const topic = new aws.sns.Topic(
      name,
      {
        ...(topicName === undefined ? {} : { name: topicName }),
        kmsMasterKeyId: key ? key.arn : kmsMasterKeyId,
      },
      { parent: this },
    );

    const topicArn = topic.arn;
    const publishers = new Contributions<string>(`AlertTopic "${name}" publishers`);
    new aws.sns.TopicPolicy(
      `${name}-policy`,
      {
        arn: topicArn,
        policy: pulumi.all([publishers.all, eventRules.all]).apply(([roleArns, eventRuleArns]) =>
          policyDocument(AlertTopic.policyStatements({ topicArn, fromThisAccountsAlarms, roleArns, restrictPublishers, eventRuleArns })),
        ),
      },
      { parent: this },
    );
    return { topicArn, kmsKeyArn, topic, key, publishers, eventRules, callerKey: kmsMasterKeyId !== undefined };
  }

  /** The topic's key: created unless the caller gave one, whose ARN is then looked up. */
  private createOrFindKey(
    name: string,
    kmsMasterKeyId: pulumi.Input<string> | undefined,
    env: AwsEnvironment,
    fromThisAccountsAlarms: Record<string, unknown>,
    fromThisAccountsRules: pulumi.Output<Record<string, unknown> | undefined>,
  ): { key?: aws.kms.Key; kmsKeyArn: pulumi.Output<string | undefined> } {
    if (kmsMasterKeyId === undefined) {
      const key = new aws.kms.Key(
        `${name}-key`,
        {
          description: `Encrypts the cloudtrail-alerts topic ${name}`,
          enableKeyRotation: true,
          policy: fromThisAccountsRules.apply((rulesCondition) =>
            policyDocument(alertKeyStatements({ accountRoot: pulumi.interpolate`arn:${env.partition}:iam::${env.accountId}:root`, fromThisAccountsAlarms, fromThisAccountsRules: rulesCondition })),
          ),
        },
        { parent: this },
      );
      return { key, kmsKeyArn: key.arn };
    }
    if (kmsMasterKeyId === AWS_MANAGED_SNS_KEY) {
      void pulumi.log.warn(
        `AlertTopic "${name}": CloudWatch alarms cannot publish to a topic encrypted with ${AWS_MANAGED_SNS_KEY}; ` +
          "alarm notifications will be dropped. Omit kmsMasterKeyId to get a key that allows them.",
        this,
      );
    }
    // The AWS managed key grants use through SNS to every principal of the account, and it may not exist yet in
    // a fresh account (AWS creates it on first use), so publishers get no KMS statement for it.
    return {
      kmsKeyArn:
        kmsMasterKeyId === AWS_MANAGED_SNS_KEY
          ? pulumi.output(undefined)
          : aws.kms.getKeyOutput({ keyId: kmsMasterKeyId }, { parent: this }).arn,
    };
  }

  /**
   * The identity-policy statements a role needs to publish to this topic: `sns:Publish` on it and, when the topic
   * uses a customer managed key, `kms:GenerateDataKey` and `kms:Decrypt` on that key.
   */
  publishStatements(): pulumi.Output<PolicyStatement[]> {
    return pulumi.all([this.topicArn, this.kmsKeyArn]).apply(([topicArn, keyArn]): PolicyStatement[] => [
      { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
      ...(keyArn === undefined
        ? []
        : [{ Sid: "EncryptAlerts", Effect: "Allow" as const, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn }]),
    ]);
  }

  /**
   * Names a role in the topic policy as an allowed publisher. Call it while constructing resources; for an adopted
   * topic it does nothing (its policy is not managed here).
   */
  allowPublisher(roleArn: pulumi.Input<string>): void {
    this.publishers?.add(roleArn);
  }

  /**
   * The AlertTopic whose `topicArn` output `arn` is (the very object, not an equal string), or undefined: lets
   * components that take a topic ARN route their alarms through {@link alarmActionsIn} and {@link forwardAlarm}.
   */
  static ofTopicArn(arn: unknown): AlertTopic | undefined {
    return typeof arn === "object" && arn !== null ? TOPICS_BY_ARN_OUTPUT.get(arn) : undefined;
  }

  /** The forwardings of other Regions' alarms created so far (see {@link forwardAlarm}). */
  get alarmForwardings(): AlarmForwarding[] {
    return Object.values(this.forwardings);
  }

  /**
   * The actions of a CloudWatch alarm in `region` that should notify this topic: the topic in its own Region, none
   * elsewhere (an alarm can notify only a topic in its Region; {@link forwardAlarm} carries those).
   */
  alarmActionsIn(region?: string): pulumi.Input<string>[] {
    return this.isRemote(region) ? [] : [this.topicArn];
  }

  /**
   * Makes an alarm of another Region notify this topic: its `CloudWatch Alarm State Change` events into ALARM are
   * forwarded to this topic's Region and published here (an {@link AlarmForwarding}, one per Region, a child of this
   * topic). Does nothing for an alarm in the topic's Region (`region` undefined or equal), which notifies it directly
   * ({@link alarmActionsIn}). Call it while constructing resources.
   */
  forwardAlarm(alarmArn: pulumi.Input<string>, region?: string): void {
    if (region === undefined || !this.isRemote(region)) {
      return;
    }
    const name = `${this.name}-alarms-${region}`;
    if (name.length > MAX_ALARM_FORWARDING_NAME_LENGTH) {
      throw new Error(`AlertTopic "${this.name}": forwarding alarms of ${region} needs names of at most ${MAX_ALARM_FORWARDING_NAME_LENGTH} characters (AWS limits rule and role names), got ${JSON.stringify(name)}; use a shorter topic name`);
    }
    this.forwardings[region] ??= new AlarmForwarding(name, { alertTopic: this, region, homeRegion: this.region! }, { parent: this });
    this.forwardings[region].add(alarmArn);
  }

  /**
   * Lets an EventBridge rule of this account publish to the topic: the topic policy admits `events.amazonaws.com` for
   * that rule only, and the created key lets EventBridge encrypt for this account's rules. For an adopted topic or a
   * caller's key, whose policies are not managed here, warns what they must allow.
   */
  allowEventRule(ruleArn: pulumi.Input<string>): void {
    this.eventRules?.add(ruleArn);
    if (this.eventRules === undefined || this.callerKey) {
      pulumi.output(ruleArn).apply((arn) => {
        void pulumi.log.warn(
          `AlertTopic "${this.name}": ${this.eventRules === undefined ? "the adopted topic's policy must let events.amazonaws.com publish (aws:SourceArn " + arn + ") and its key" : "the key given in kmsMasterKeyId"} must let events.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or the alarms that rule forwards reach no one`,
          this,
        );
      });
    }
  }

  /** True when `region` is known and is not the topic's; throws when the topic's Region is unknown. */
  private isRemote(region?: string): boolean {
    if (region === undefined) {
      return false;
    }
    if (this.region === undefined) {
      throw new Error(`AlertTopic "${this.name}": its Region is unknown (no aws:region), so an alarm in ${region} cannot be routed to it; set aws:region`);
    }
    return region !== this.region;
  }

  /** The topic policy statements, exposed for tests and for users who manage an adopted topic's policy. */
  static policyStatements(p: AlertTopicPolicyParams): PolicyStatement[] {
    return alertTopicStatements(p);
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: AlertTopicArgs): void {
    const checker = argProblems(`AlertTopic "${name}"`);
    adoptionProblems(args, ALERT_TOPIC_ADOPTION).forEach((problem) => checker.fail(problem));
    checker.check("existingTopicArn", args.existingTopicArn, (v: string) => /^arn:aws[\w-]*:sns:/.test(v), "an SNS topic ARN");
    (args.emailAddresses ?? []).forEach((address, i) =>
      checker.check(`emailAddresses[${i}]`, address, isEmailAddress, "an email address"),
    );
    // Each address becomes a subscription named after it: a repeat would be two resources of one URN.
    (args.emailAddresses ?? []).forEach((address, i, all) => {
      if (typeof address === "string" && all.indexOf(address) !== i) {
        checker.fail(`emailAddresses[${i}] ${JSON.stringify(address)} is listed twice (also emailAddresses[${all.indexOf(address)}])`);
      }
    });
    const seen = new Set<string>();
    (args.subscriptions ?? []).forEach((subscription, i) => {
      checker.check(`subscriptions[${i}].name`, subscription.name, isNonEmptyString, "a non-empty stable key");
      if (seen.has(subscription.name)) {
        checker.fail(`subscriptions[${i}].name ${JSON.stringify(subscription.name)} is used twice`);
      }
      seen.add(subscription.name);
      const protocol: string = subscription.protocol;
      if (!["https", "sqs", "lambda"].includes(protocol)) {
        checker.fail(`subscriptions[${i}].protocol must be https, sqs or lambda, got ${JSON.stringify(protocol)}`);
      } else if (subscription.protocol === "https") {
        checker.check(`subscriptions[${i}].endpoint`, subscription.endpoint, (v: string) => /^https:\/\/\S+$/.test(v), "an https:// URL");
      } else {
        const service = subscription.protocol;
        checker.check(`subscriptions[${i}].endpoint`, subscription.endpoint, (v: string) => new RegExp(`^arn:aws[\\w-]*:${service}:`).test(v), `an ${service} ARN`);
      }
    });
    checker.throwIfAny();
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { ACTIVITY_CRITERIA_KEYS, type ActivityCriteria, activityCriteriaProblems } from "../functions/userActivity/criteria";
import { eventBridgePattern, logsFilterPattern, MAX_EVENT_PATTERN_LENGTH } from "../functions/shared/recordPattern";
import { type BurstSettings, DEFAULT_BURST_SETTINGS } from "../functions/userActivity/bursts";
import { userActivityCallbackFactory } from "../functions/userActivity/handler";
import { SENT_JOURNAL_TABLE } from "../functions/userActivity/sentJournal";
import { groupingProblems, toEnvironment } from "../functions/userActivity/settings";
import { activityPrefilter, type ActivityPrefilter } from "./activityPatterns";
import { AlertTopic } from "./alertTopic";
import { type BurstSweep, burstSweepSchedule } from "./burstSweep";
import { DispatcherRoute, EventRuleSource, LogSubscriptionSource, type DeliveredRuleTarget } from "./eventSources";
import { LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import { awsEnvironment } from "./awsEnvironment";
import { policyDocument, type PolicyStatement } from "./policy";
import { SecureCallbackFunction } from "./secureCallbackFunction";
import { TtlTable } from "./ttlTable";
import { argProblems, isLogRetention, isRegion, isTimeZone } from "./validation";

/** Region where IAM, STS global endpoint, console sign-in and other global services record their events. */
export const GLOBAL_SERVICES_REGION = "us-east-1";

/**
 * Longest component name: child names add `-handler-role`, `-rule-<region>`, `-undelivered-<region>` and Pulumi's
 * 8-character suffix, and AWS limits rule, role and function names to 64 characters (queue names to 80).
 */
export const MAX_NOTIFIER_NAME_LENGTH = 36;

/** Room for the criteria in the function's environment (Lambda allows 4 KB for all variables together). */
export const MAX_CRITERIA_JSON_LENGTH = 3000;

/**
 * EventBridge rules (the default). A rule is created in each listed Region: CloudTrail delivers an event to
 * EventBridge only in the Region where the call was recorded. A rule cannot invoke a function in another Region, so
 * each rule outside the function's Region forwards matching events to the function Region's default event bus (a
 * cross-Region event bus target, through a role that may only `events:PutEvents` to that bus), where one rule invokes
 * the function. One function, one log group and one set of alarms serve every Region.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html
 */
export interface EventBridgeActivitySource {
  type: "eventbridge";
  /**
   * Regions to watch. IAM, STS (global endpoint) and console sign-in record their events in us-east-1.
   * @default - the function's Region and us-east-1
   */
  regions?: string[];
  /**
   * The Region the function is deployed in (the provider's Region); checked against the provider at deployment.
   * @default - the `aws:region` of the stack
   */
  homeRegion?: string;
}

/**
 * One subscription filter per notifier (docs/sourceArticles.md): a subscription filter of this notifier's own on the
 * trail's log group, with a filter pattern generated from the criteria. A multi-region trail's log group holds every Region's events. CloudWatch Logs allows
 * two subscription filters per log group: use `dispatcher` when more than two consumers share a trail.
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
export interface LogsActivitySource {
  type: "logs";
  /** The trail's log group, for example `AuditTrail.logGroupName`. */
  logGroupName: pulumi.Input<string>;
  /** Its ARN without `:*`, for example `AuditTrail.logGroupArn`. */
  logGroupArn: pulumi.Input<string>;
}

/**
 * The trail's log group through a shared {@link LogSubscriptionDispatcher}: any number of notifiers (and other
 * consumers) share its one subscription filter; the dispatcher forwards each the records its criteria select.
 */
export interface DispatcherActivitySource {
  type: "dispatcher";
  dispatcher: LogSubscriptionDispatcher;
}

export type UserActivitySource = EventBridgeActivitySource | LogsActivitySource | DispatcherActivitySource;

export interface UserActivityNotifierArgs extends ActivityCriteria {
  /** Where notifications go (email subscribers, and chat through Amazon Q Developer with `chatNotifications`). */
  alertTopic: AlertTopic;
  /**
   * Where records come from.
   * @default { type: "eventbridge" } - rules in the stack's Region and us-east-1
   */
  source?: UserActivitySource;
  /**
   * IANA time zone notifications show times in, with their offset (`2023-04-25 18:47:10 +09:00`).
   * @default "UTC"
   */
  timeZone?: string;
  /**
   * Language of the body (labels and the summary line). Subjects are always ASCII English, as SNS requires.
   * @default "en"
   */
  language?: "ja" | "en";
  /**
   * Also send each notification in Amazon Q Developer in chat applications' custom-notification format to the topic's
   * HTTPS subscribers (Slack, Microsoft Teams); email keeps the readable text. Other HTTPS subscribers (webhooks) then
   * receive that JSON too. See https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
   * @default false
   */
  chatNotifications?: boolean;
  /** Days the function's own log group keeps its logs. @default 30 */
  logRetentionInDays?: number;
  /**
   * Notify each CloudTrail event once, also when Lambda retries a batch that partly failed or an event is delivered
   * again: the function keeps a journal of the events it notified in a small on-demand DynamoDB table of its own (one
   * read and one write per notification; entries expire after 7 days). `false`: no table; notifications are at least
   * once, and a retried batch notifies the records that had gone out again.
   * @default true
   */
  deduplicate?: boolean;
  /**
   * Burst grouping, against floods such as a watched user's `terraform apply`: the first matching event of a principal,
   * event source and event name is sent at once; that key's further events within `windowSeconds` are counted and sent
   * as one summary ("and 37 more ... between 10:00 and 10:05", with the first and last of them and a link to the rest)
   * once the window has closed; at most `maxMessagesPerHour` messages go out per clock hour, and what is over is
   * summarised after the hour. Every matching event is in a message or a summary's total. The state is kept in the
   * journal table (`deduplicate`), and a rule runs the function every minute to send due summaries. `false`: every
   * matching event is sent.
   * @default { windowSeconds: 300, maxMessagesPerHour: 100 } - on, when `deduplicate` is (off without the table)
   */
  grouping?: false | Partial<BurstSettings>;
  /**
   * KMS key (ARN) that encrypts the journal table (`deduplicate`). The function is granted its use through DynamoDB only.
   * @default - the AWS managed key `aws/dynamodb` (its use is recorded in CloudTrail, unlike the AWS owned key)
   */
  tableKmsKeyArn?: pulumi.Input<string>;
}

/**
 * Readable notifications of what chosen people do in AWS: every call of an IAM user, of a role's sessions, of an IAM
 * Identity Center user, or named kinds of calls (SSM sessions, console sign-ins, IAM changes, bucket creation), each
 * sent to the alert topic as a few labelled lines in Japanese or English with the time in your zone.
 *
 * Records arrive from EventBridge rules (default), from a subscription filter on the trail's log group, or from a
 * shared {@link LogSubscriptionDispatcher}. The rule's event pattern and the filter pattern are generated from the
 * criteria and only narrow the volume; the function applies the criteria exactly (read-only filter and exclusions
 * included) before it sends anything. A journal of sent notifications (a small DynamoDB table, see `deduplicate`)
 * keeps Lambda's retries and redeliveries from notifying an event twice, and burst grouping (see `grouping`) turns a
 * flood of one person's calls into the first one and a summary. Each rule's target keeps the events
 * EventBridge could not deliver in a dead-letter queue in the rule's Region (see `ruleTargets`).
 *
 * Several notifiers on one trail: with EventBridge each has its own rules (300 per bus); with log groups, use one
 * `LogSubscriptionDispatcher` for all of them, since CloudWatch Logs allows only two subscription filters per log
 * group and a notifier with `type: "logs"` takes one.
 */
export class UserActivityNotifier extends pulumi.ComponentResource {
  /** The criteria the function applies, as given. */
  readonly criteria: ActivityCriteria;
  /** The EventBridge event pattern generated from the criteria (used by the rules of the eventbridge source). */
  readonly eventPattern: string;
  /** The CloudWatch Logs filter pattern generated from the criteria (used by the logs source). */
  readonly filterPattern: string;
  /** Rules per Region (eventbridge source); empty otherwise. */
  readonly rules: Record<string, aws.cloudwatch.EventRule>;
  /**
   * Per Region (eventbridge source): the rule's target with its retry policy, and the dead-letter queue (with its
   * alarm) in that Region for the events EventBridge could not deliver. Only the home Region's alarm notifies the
   * alert topic. Empty for the other sources.
   */
  readonly ruleTargets: Record<string, DeliveredRuleTarget> = {};
  readonly handler: SecureCallbackFunction;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The sent journal table; undefined with `deduplicate: false`. */
  readonly table?: aws.dynamodb.Table;
  readonly tableName?: pulumi.Output<string>;
  /** Burst grouping's settings; undefined when grouping is off. */
  readonly grouping?: BurstSettings;
  /** The rule that runs the burst sweep every minute; undefined when grouping is off. */
  readonly sweep?: BurstSweep;

  constructor(name: string, args: UserActivityNotifierArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:UserActivityNotifier", name, {}, opts);
    UserActivityNotifier.validateArgs(name, args);
    const {
      alertTopic,
      source = { type: "eventbridge" },
      timeZone = "UTC",
      language = "en",
      chatNotifications = false,
      logRetentionInDays = 30,
      deduplicate = true,
      tableKmsKeyArn,
    } = args;
    this.criteria = UserActivityNotifier.criteriaOf(args);
    this.grouping = UserActivityNotifier.groupingOf(args);
    const prefilter = activityPrefilter(this.criteria);
    this.eventPattern = eventBridgePattern(prefilter.detailTypes, prefilter.patterns);
    this.filterPattern = logsFilterPattern(prefilter.patterns);
    const child = { parent: this };

    // Publishing to the alert topic (added by publishesAlerts) and, with deduplicate, reading and writing the journal.
    const statements: pulumi.Input<PolicyStatement>[] = [];
    if (deduplicate) {
      const sent = this.createJournal(name, tableKmsKeyArn);
      this.table = sent.table;
      this.tableName = this.table.name;
      // GetItem and PutItem: look up the batch's events, record each one notified; UpdateItem: burst grouping's
      // conditional updates of its state items (never a Query or a Scan: its sweep reads one index item).
      statements.push(...sent.grant("RememberSentNotifications", ["dynamodb:GetItem", "dynamodb:PutItem", ...(this.grouping === undefined ? [] : ["dynamodb:UpdateItem"])]));
    }

    const table = this.tableName === undefined ? {} : { sentTableName: this.tableName };
    const environment = toEnvironment({ timeZone, language, criteria: this.criteria, chatNotifications, ...table, ...(this.grouping === undefined ? {} : { burst: this.grouping }) });
    this.handler = new SecureCallbackFunction(
      `${name}-handler`,
      {
        description: `Readable notifications of chosen CloudTrail activity (UserActivityNotifier ${name})`,
        callbackFactory: userActivityCallbackFactory,
        statements,
        alertTopic,
        publishesAlerts: true,
        environment,
        logRetentionInDays,
        rejectedInputAlarm: { consequence: "notifications for it may be missing" },
      },
      child,
    );
    this.functionName = this.handler.functionName;
    this.functionArn = this.handler.functionArn;
    if (this.grouping !== undefined) {
      this.sweep = burstSweepSchedule(`${name}-sweep`, this.handler, `UserActivityNotifier ${name}`, child);
    }

    this.rules = source.type === "eventbridge" ? this.createRules(name, source, prefilter, alertTopic) : {};
    if (source.type === "logs") {
      this.createSubscription(name, source);
    } else if (source.type === "dispatcher") {
      new DispatcherRoute(source.dispatcher, { key: name, patterns: prefilter.patterns }, { parent: this }).bind(this.handler);
    }

    this.registerOutputs({
      criteria: this.criteria,
      eventPattern: this.eventPattern,
      filterPattern: this.filterPattern,
      rules: this.rules,
      ruleTargets: this.ruleTargets,
      handler: this.handler,
      functionName: this.functionName,
      functionArn: this.functionArn,
      table: this.table,
      tableName: this.tableName,
      grouping: this.grouping,
      sweep: this.sweep,
    });
  }

  /** The sent journal's table (which also keeps burst grouping's state); entries expire once no delivery can come. */
  private createJournal(name: string, kmsKeyArn: pulumi.Input<string> | undefined): TtlTable {
    return new TtlTable(`${name}-sent`, { ...SENT_JOURNAL_TABLE, kmsKeyArn }, { parent: this });
  }

  private createRules(name: string, source: EventBridgeActivitySource, prefilter: ActivityPrefilter, alertTopic: AlertTopic): Record<string, aws.cloudwatch.EventRule> {
    const home = UserActivityNotifier.homeRegionOf(source);
    const regions = UserActivityNotifier.regionsOf(source);
    const remote = regions.filter((region) => region !== home);
    const env = awsEnvironment(this);
    env.region.apply((providerRegion) => {
      if (providerRegion !== home) {
        throw new Error(`UserActivityNotifier "${name}": source.homeRegion is ${home} but the function is deployed in ${providerRegion}; set source.homeRegion to ${providerRegion}`);
      }
    });
    // Read-only management events reach a rule only in this state; other states save the function's invocations.
    const state = prefilter.includesReadOnly ? "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" : "ENABLED";
    const sources: Record<string, EventRuleSource> = {};
    const description = `cloudtrail-alerts UserActivityNotifier ${name}`;

    for (const region of remote) {
      sources[region] = new EventRuleSource(
        `${name}-rule-${region}`,
        { region, description: `${description}: forwards matching CloudTrail events to ${home}`, eventPattern: this.eventPattern, state },
        { parent: this },
      );
    }
    // The home rule sees the home Region's events and those forwarded to its bus; when the home Region is not watched
    // itself, it accepts only the forwarded ones (their `region` field keeps the Region they happened in).
    const homePattern = regions.includes(home) ? this.eventPattern : JSON.stringify({ region: remote, ...(JSON.parse(this.eventPattern) as object) });
    sources[home] = new EventRuleSource(
      `${name}-rule-${home}`,
      { region: home, description: `${description}: invokes the notifier function`, eventPattern: homePattern, state },
      { parent: this },
    );
    // Each rule's target keeps what EventBridge could not deliver in a dead-letter queue in the rule's Region.
    const purpose = (region: string) => (region === home ? `invokes the function of UserActivityNotifier ${name}` : `forwards ${region} events of UserActivityNotifier ${name} to ${home}`);
    const names = (region: string) => ({ target: `${name}-target-${region}`, deadLetters: `${name}-undelivered-${region}` });
    this.ruleTargets[home] = sources[home].bind(this.handler, { purpose: purpose(home), alertTopic, names: { permission: `${name}-permission-${home}`, ...names(home) } });

    if (remote.length > 0) {
      const homeBus = aws.cloudwatch.getEventBusOutput({ name: "default", region: home }, { parent: this });
      const forwardRole = new aws.iam.Role(
        `${name}-forward-role`,
        {
          description: `Lets the EventBridge rules of UserActivityNotifier ${name} forward events to the default bus in ${home}`,
          // Only EventBridge, acting for exactly these rules of this account, may assume it (confused-deputy protection).
          assumeRolePolicy: policyDocument([
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: {
                StringEquals: { "aws:SourceAccount": env.accountId },
                ArnEquals: { "aws:SourceArn": remote.map((region) => sources[region].rule.arn) },
              },
            },
          ]),
        },
        { parent: this },
      );
      const forwardPolicy = new aws.iam.RolePolicy(
        `${name}-forward-policy`,
        {
          role: forwardRole.id,
          policy: policyDocument([{ Sid: "ForwardToHomeBus", Effect: "Allow", Action: "events:PutEvents", Resource: homeBus.arn }]),
        },
        { parent: this },
      );
      for (const region of remote) {
        // A CloudWatch alarm notifies only a topic in its own Region, so this queue's alarm (in `region`) has no action.
        this.ruleTargets[region] = sources[region].forward(
          { arn: homeBus.arn, roleArn: forwardRole.arn },
          { purpose: purpose(region), names: names(region) },
          // EventBridge assumes the role on the first forwarded event: its permission must be in place.
          { dependsOn: [forwardPolicy] },
        );
      }
    }
    return Object.fromEntries(Object.entries(sources).map(([region, source]) => [region, source.rule]));
  }

  private createSubscription(name: string, source: LogsActivitySource): void {
    const env = awsEnvironment(this);
    const logs = new LogSubscriptionSource({ logGroupName: source.logGroupName, logGroupArn: source.logGroupArn, filterPattern: this.filterPattern, accountId: env.accountId }, { parent: this });
    logs.bind(this.handler, { permission: `${name}-logs-permission`, subscription: `${name}-subscription` });
  }

  /** The criteria part of the arguments (what the function receives). */
  static criteriaOf(args: UserActivityNotifierArgs): ActivityCriteria {
    const given = args as unknown as Record<string, unknown>;
    return Object.fromEntries(ACTIVITY_CRITERIA_KEYS.filter((key) => given[key] !== undefined).map((key) => [key, given[key]]));
  }

  /** Burst grouping's settings, defaults applied; undefined when it is off (`grouping: false`, or no journal table). */
  static groupingOf(args: UserActivityNotifierArgs): BurstSettings | undefined {
    if (args.grouping === false || (args.grouping === undefined && args.deduplicate === false)) {
      return undefined;
    }
    return { ...DEFAULT_BURST_SETTINGS, ...args.grouping };
  }

  /** The function's Region for an eventbridge source. */
  static homeRegionOf(source: EventBridgeActivitySource): string {
    const home = source.homeRegion ?? aws.config.region;
    if (home === undefined) {
      throw new Error("UserActivityNotifier: the stack has no aws:region; set it, or set source.homeRegion");
    }
    return home;
  }

  /** The watched Regions of an eventbridge source, defaults applied, without repeats. */
  static regionsOf(source: EventBridgeActivitySource): string[] {
    return [...new Set(source.regions ?? [UserActivityNotifier.homeRegionOf(source), GLOBAL_SERVICES_REGION])];
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: UserActivityNotifierArgs): void {
    const checker = argProblems(`UserActivityNotifier "${name}"`);
    if (name.length > MAX_NOTIFIER_NAME_LENGTH) {
      checker.fail(`name must be at most ${MAX_NOTIFIER_NAME_LENGTH} characters (AWS limits the names derived from it), got ${JSON.stringify(name)}`);
    }
    const criteria = UserActivityNotifier.criteriaOf(args);
    const problems = activityCriteriaProblems(criteria, "args");
    problems.forEach((problem) => checker.fail(problem.startsWith("args.") ? problem.slice("args.".length) : problem.replace(/^args/, "the arguments")));
    if (problems.length === 0) {
      const criteriaLength = JSON.stringify(criteria).length;
      if (criteriaLength > MAX_CRITERIA_JSON_LENGTH) {
        checker.fail(`the criteria take ${criteriaLength} characters as JSON; at most ${MAX_CRITERIA_JSON_LENGTH} fit in the function's environment`);
      }
      const prefilter = activityPrefilter(criteria);
      const pattern = eventBridgePattern(prefilter.detailTypes, prefilter.patterns);
      // The margin leaves room for the `region` list the home rule adds when the home Region is not watched itself.
      if (args.source?.type !== "logs" && args.source?.type !== "dispatcher" && pattern.length > MAX_EVENT_PATTERN_LENGTH - 200) {
        checker.fail(`the criteria make an event pattern of ${pattern.length} characters; EventBridge accepts ${MAX_EVENT_PATTERN_LENGTH} by default. Use fewer names or ARN prefixes`);
      }
    }
    checker
      .check("timeZone", args.timeZone, isTimeZone, "an IANA time zone such as Asia/Tokyo")
      .check("language", args.language, (v: string) => v === "ja" || v === "en", '"ja" or "en"')
      .check("chatNotifications", args.chatNotifications, (v: unknown) => typeof v === "boolean", "true or false")
      .check("deduplicate", args.deduplicate, (v: unknown) => typeof v === "boolean", "true or false")
      .check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods");
    groupingProblems(args.grouping, "grouping", args.deduplicate !== false).forEach((problem) => checker.fail(problem));
    if (args.deduplicate === false && args.tableKmsKeyArn !== undefined) {
      checker.fail("tableKmsKeyArn encrypts the sent journal table, which deduplicate: false does not create; remove one of them");
    }
    const source = args.source as { type?: unknown; regions?: unknown; homeRegion?: unknown } | undefined;
    if (source !== undefined && !["eventbridge", "logs", "dispatcher"].includes(source.type as string)) {
      checker.fail(`source.type must be "eventbridge", "logs" or "dispatcher", got ${JSON.stringify(source.type)}`);
    }
    if (source?.type === "eventbridge") {
      checker.check("source.homeRegion", source.homeRegion, isRegion, "an AWS region such as ap-northeast-1");
      if (source.regions !== undefined) {
        if (!Array.isArray(source.regions) || source.regions.length === 0) {
          checker.fail(`source.regions must be a non-empty list of regions, got ${JSON.stringify(source.regions)}`);
        } else {
          source.regions.forEach((region: unknown, i) => checker.check(`source.regions[${i}]`, region, isRegion, "an AWS region such as us-east-1"));
        }
      }
    }
    if (source?.type === "logs") {
      const logs = args.source as LogsActivitySource;
      checker.check("source.logGroupArn", logs.logGroupArn, (v: string) => /^arn:aws[\w-]*:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+$/.test(v), "a log group ARN without the :* suffix");
    }
    if (source?.type === "dispatcher" && !((args.source as DispatcherActivitySource).dispatcher instanceof LogSubscriptionDispatcher)) {
      checker.fail("source.dispatcher must be a LogSubscriptionDispatcher");
    }
    checker.throwIfAny();
  }
}

import { createHash } from "crypto";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { ProblemSink } from "../functions/shared/problems";
import { shown } from "../functions/shared/values";
import { awsEnvironment } from "./awsEnvironment";
import { serviceTrustPolicy } from "./policy";
import { argProblems } from "./validation";

/** A Slack channel, by the IDs Slack shows (not names). */
export interface SlackChannel {
  /** The Slack workspace ID (`T07EA123LEP`), authorized once in the Amazon Q Developer in chat applications console. */
  teamId: string;
  /** The channel ID (`C07EZ1ABC23`): the last part of the channel's link. Private channels need the app invited. */
  channelId: string;
}

/** A Microsoft Teams channel, by the IDs in its link. */
export interface TeamsChannel {
  /** The team ID (a UUID), authorized once in the Amazon Q Developer in chat applications console. */
  teamId: string;
  /** The channel ID as it appears URL-encoded in the channel's link: `19%3A...%40thread.tacv2`. */
  channelId: string;
  /** The Microsoft Entra tenant ID (a UUID). */
  tenantId: string;
}

/** Log levels of a channel configuration (its `/aws/chatbot/<configuration>` log groups). */
export type ChatLoggingLevel = "ERROR" | "INFO" | "NONE";

/** The chat channels, as the stack config and CloudTrailAlerts take them. */
export interface ChatChannelsConfig {
  /** @default - none */
  slack?: SlackChannel[];
  /** @default - none */
  teams?: TeamsChannel[];
}

/** Arguments of {@link ChatChannels}. */
export interface ChatChannelsArgs extends ChatChannelsConfig {
  /** The topic whose notifications the channels receive (the alert topic). */
  alertTopicArn: pulumi.Input<string>;
  /**
   * IAM policies that cap what the channel role, and any user role a channel member maps, may do from the channel.
   * The API applies AWS's `AdministratorAccess` when none is given, so an empty list is refused.
   * See https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html#channel-guardrails
   * @default - `AWSDenyAll`: nobody can run anything from the channel; notifications are still delivered
   */
  guardrailPolicyArns?: pulumi.Input<string>[];
  /**
   * What Amazon Q Developer logs about each channel to CloudWatch Logs (`/aws/chatbot/...`, log groups it creates
   * without retention). `ERROR` records notifications it could not post (for example a message that is neither a
   * supported AWS event nor a custom notification).
   * @default "NONE" - nothing is logged, so no alert text is kept in log groups this stack does not manage
   */
  loggingLevel?: ChatLoggingLevel;
  /**
   * The Region whose Amazon Q Developer in chat applications API manages the configurations. The API exists only in
   * us-east-2, us-west-2, eu-west-1 and ap-southeast-1; the configurations themselves are global and can subscribe to a
   * topic in any Region. See https://docs.aws.amazon.com/chatbot/latest/APIReference/Welcome.html
   * @default "us-east-2"
   */
  apiRegion?: string;
}

/** Regions that serve the Amazon Q Developer in chat applications API (its endpoints). */
export const CHAT_API_REGIONS: readonly string[] = ["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"];

const LOGGING_LEVELS: readonly string[] = ["ERROR", "INFO", "NONE"];

// The request members' patterns in the service's API model (botocore chatbot 2017-10-11), whole-value matches.
const SLACK_TEAM_ID = /^[0-9A-Z]{1,255}$/;
const SLACK_CHANNEL_ID = /^[A-Za-z0-9]{1,255}$/;
const UUID = /^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$/;
const TEAMS_CHANNEL_ID = /^[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*$/;
// GuardrailPolicyArn: an IAM policy, not one of a service-linked role's.
const GUARDRAIL_POLICY_ARN = /^(?!.*\/aws-service-role\/.*)arn:aws:iam:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Refuses fields other than `fields` in `entry` (a typo such as `channelID` would otherwise pass unnoticed). */
function unknownFields(entry: Record<string, unknown>, path: string, fields: readonly string[], problems: ProblemSink): void {
  for (const field of Object.keys(entry)) {
    if (!fields.includes(field)) {
      problems.fail(`${path} has unknown field ${JSON.stringify(field)}; expected ${fields.join(", ")}`);
    }
  }
}

/** Checks `entry[field]` with `ok`, and says so when it is missing (an undefined value is otherwise not checked). */
function checkField(entry: Record<string, unknown>, path: string, field: string, ok: (value: never) => boolean, expectation: string, problems: ProblemSink): void {
  if (entry[field] === undefined) {
    problems.fail(`${path}.${field} is required: ${expectation}`);
  } else {
    problems.check(`${path}.${field}`, entry[field], ok, expectation);
  }
}

/** Checks `slack`: IDs as the API model defines them, each channel once (AWS configures a channel once per account). */
function checkSlack(slack: unknown, problems: ProblemSink): void {
  if (!Array.isArray(slack)) {
    problems.fail(`slack must be a list of { teamId, channelId }, got ${shown(slack)}`);
    return;
  }
  const seen = new Map<string, number>();
  slack.forEach((entry: unknown, i) => {
    const path = `slack[${i}]`;
    if (!isObject(entry)) {
      problems.fail(`${path} must be an object { teamId, channelId }, got ${shown(entry)}`);
      return;
    }
    unknownFields(entry, path, ["teamId", "channelId"], problems);
    checkField(entry, path, "teamId", (v: unknown) => typeof v === "string" && SLACK_TEAM_ID.test(v), "a Slack workspace ID such as T07EA123LEP (capital letters and digits)", problems);
    checkField(entry, path, "channelId", (v: unknown) => typeof v === "string" && SLACK_CHANNEL_ID.test(v), "a Slack channel ID such as C07EZ1ABC23 (the end of the channel's link, not its name)", problems);
    const key = `${String(entry.teamId)}/${String(entry.channelId)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.fail(`${path} is the same channel as slack[${first}]; AWS configures a Slack channel once per account`);
    }
    seen.set(key, i);
  });
}

/** A Teams channel ID pasted decoded (`19:...@thread.tacv2`) gets the encoded form to use instead. */
function teamsChannelExpectation(value: unknown): string {
  const encoded = typeof value === "string" && value.includes(":") ? `; use the URL-encoded form ${shown(encodeURIComponent(value))}` : "";
  return `a Teams channel ID as URL-encoded in the channel's link, such as 19%3Aab12...%40thread.tacv2${encoded}`;
}

/**
 * Checks `teams`: IDs as the API model defines them, one channel per team. The installed provider (@pulumi/aws 7.48)
 * finds a Teams configuration by its team ID (its import ID), so a second channel of one team cannot be created
 * (hashicorp/terraform-provider-aws#38943).
 */
function checkTeams(teams: unknown, problems: ProblemSink): void {
  if (!Array.isArray(teams)) {
    problems.fail(`teams must be a list of { teamId, channelId, tenantId }, got ${shown(teams)}`);
    return;
  }
  const seen = new Map<string, number>();
  teams.forEach((entry: unknown, i) => {
    const path = `teams[${i}]`;
    if (!isObject(entry)) {
      problems.fail(`${path} must be an object { teamId, channelId, tenantId }, got ${shown(entry)}`);
      return;
    }
    unknownFields(entry, path, ["teamId", "channelId", "tenantId"], problems);
    const isUuid = (v: unknown) => typeof v === "string" && UUID.test(v);
    checkField(entry, path, "teamId", isUuid, "a Microsoft Teams team ID (a UUID)", problems);
    checkField(entry, path, "channelId", (v: unknown) => typeof v === "string" && v.length <= 255 && TEAMS_CHANNEL_ID.test(v), teamsChannelExpectation(entry.channelId), problems);
    checkField(entry, path, "tenantId", isUuid, "a Microsoft Entra tenant ID (a UUID)", problems);
    const first = seen.get(String(entry.teamId));
    if (first !== undefined) {
      problems.fail(`${path} is a second channel of team ${String(entry.teamId)} (also teams[${first}]); the AWS provider manages one channel per Teams team`);
    }
    seen.set(String(entry.teamId), i);
  });
}

/**
 * The rules of `slack` and `teams`, shared by the component and the stack config (`cloudtrail-alerts:chat`): the IDs'
 * formats from the Amazon Q Developer in chat applications API model, no channel twice, no unknown field.
 */
export function checkChatChannels(config: Record<string, unknown>, problems: ProblemSink): void {
  for (const field of Object.keys(config)) {
    if (field !== "slack" && field !== "teams") {
      problems.fail(`${field} is not a field of the chat channels; expected slack, teams`);
    }
  }
  if (config.slack !== undefined) checkSlack(config.slack, problems);
  if (config.teams !== undefined) checkTeams(config.teams, problems);
}

/** True when `config` names at least one channel. */
export function hasChatChannels(config: ChatChannelsConfig | undefined): boolean {
  return (config?.slack?.length ?? 0) + (config?.teams?.length ?? 0) > 0;
}

/** A short stable key for a Teams channel (its ID has characters names cannot hold). */
function channelKey(channelId: string): string {
  return createHash("sha256").update(channelId).digest("hex").slice(0, 12);
}

/**
 * Slack and Microsoft Teams channels of Amazon Q Developer in chat applications (formerly AWS Chatbot) subscribed to
 * the alert topic. The service subscribes each configuration to the topic over HTTPS itself (through its
 * service-linked role) and posts what it can read: CloudWatch alarm notifications and custom notifications (the
 * UserActivityNotifier's `chatNotifications`). The channels share one role that may do nothing, under a guardrail that
 * denies everything: reading notifications needs no permission, and nobody can act on AWS from the channel.
 * See docs/chatChannels.md.
 */
export class ChatChannels extends pulumi.ComponentResource {
  /** ARN of the channels' role (no permissions). */
  readonly roleArn: pulumi.Output<string>;
  /** ARNs of the channel configurations, Slack first, in the order given. */
  readonly configurationArns: pulumi.Output<string[]>;

  constructor(name: string, args: ChatChannelsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:ChatChannels", name, {}, opts);
    ChatChannels.validateArgs(name, args);
    const { alertTopicArn, slack = [], teams = [], loggingLevel = "NONE", apiRegion = "us-east-2" } = args;
    const env = awsEnvironment(this);
    // Security default: a guardrail that denies every action, so that neither the channel role nor a user role a
    // member maps can do anything from the channel. Without one, the API applies AdministratorAccess.
    const guardrailPolicyArns = args.guardrailPolicyArns ?? [pulumi.interpolate`arn:${env.partition}:iam::aws:policy/AWSDenyAll`];

    // The role the service assumes for actions in the channel (and to draw CloudWatch alarm graphs). It has no
    // policy: custom notifications and alarm messages are posted without any permission (alarm graphs are left out).
    const role = new aws.iam.Role(
      `${name}-role`,
      { description: "Amazon Q Developer in chat applications channels of cloudtrail-alerts: no permissions", assumeRolePolicy: serviceTrustPolicy("chatbot.amazonaws.com") },
      { parent: this },
    );
    const common = { iamRoleArn: role.arn, snsTopicArns: [alertTopicArn], guardrailPolicyArns, loggingLevel, region: apiRegion };
    const configurations: pulumi.Output<string>[] = [];
    for (const channel of slack) {
      const key = `${name}-slack-${channel.teamId}-${channel.channelId}`;
      const configuration = new aws.chatbot.SlackChannelConfiguration(
        key,
        { ...common, configurationName: key, slackTeamId: channel.teamId, slackChannelId: channel.channelId },
        { parent: this },
      );
      configurations.push(configuration.chatConfigurationArn);
    }
    for (const channel of teams) {
      const key = `${name}-teams-${channelKey(channel.channelId)}`;
      const configuration = new aws.chatbot.TeamsChannelConfiguration(
        key,
        { ...common, configurationName: key, teamId: channel.teamId, channelId: channel.channelId, tenantId: channel.tenantId },
        { parent: this },
      );
      configurations.push(configuration.chatConfigurationArn);
    }

    this.roleArn = role.arn;
    this.configurationArns = pulumi.all(configurations);
    this.registerOutputs({ roleArn: this.roleArn, configurationArns: this.configurationArns });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: ChatChannelsArgs): void {
    const problems = argProblems(`ChatChannels "${name}"`);
    checkChatChannels({ ...(args.slack === undefined ? {} : { slack: args.slack }), ...(args.teams === undefined ? {} : { teams: args.teams }) }, problems);
    if (!hasChatChannels(args)) {
      problems.fail("slack and teams name no channel; give at least one");
    }
    if (args.guardrailPolicyArns !== undefined && args.guardrailPolicyArns.length === 0) {
      problems.fail("guardrailPolicyArns is empty, which makes AWS apply AdministratorAccess; omit it for AWSDenyAll or name a policy");
    }
    (args.guardrailPolicyArns ?? []).forEach((arn, i) =>
      problems.check(`guardrailPolicyArns[${i}]`, arn, (v: unknown) => typeof v === "string" && GUARDRAIL_POLICY_ARN.test(v), "an IAM policy ARN (not a service-linked role's)"),
    );
    problems
      .check("loggingLevel", args.loggingLevel, (v: unknown) => LOGGING_LEVELS.includes(v as string), '"ERROR", "INFO" or "NONE"')
      .check("apiRegion", args.apiRegion, (v: unknown) => CHAT_API_REGIONS.includes(v as string), `one of the Regions of the Amazon Q Developer in chat applications API (${CHAT_API_REGIONS.join(", ")})`)
      .throwIfAny();
  }
}

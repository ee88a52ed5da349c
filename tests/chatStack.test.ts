/**
 * The dev stack with `chat` (a Slack and a Teams channel), previewed as `npm start -- --stack NAME --json` would print
 * it (a separate process): one Amazon Q Developer in chat applications configuration per channel on the alert topic,
 * their role without permissions under the AWSDenyAll guardrail, and the notifiers sending the chat format.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import { parse, stringify } from "yaml";

import { ALERT_TOPIC_ARN_VARIABLE } from "../functions/shared/environment";
import { fromEnvironment } from "../functions/userActivity/settings";
import { API_CONSTRAINTS, NOT_API_MEMBERS } from "../preview/apiConstraints";
import { PROJECT_DIRECTORY } from "./support/engine";
import { previewJson } from "./support/previewProcess";

interface PreviewedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  inputs: Record<string, unknown>;
}

const STACK = "ci-chat";
const SLACK = { teamId: "T07EA123LEP", channelId: "C07EZ1ABC23" };
const TEAMS = { teamId: "74361522-da01-538d-aa2e-ac7918c6bb92", channelId: "19%3A4c64f77fdeb84f298d610f7030b1e13e%40thread.tacv2", tenantId: "5f4f15d2-b958-522a-8333-124aa8bf0925" };
const SLACK_TYPE = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration";
const TEAMS_TYPE = "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration";

describe("a stack with chat: Slack and Teams (offline preview)", function () {
  this.timeout(120_000);
  let resources: PreviewedResource[];
  const ofType = (type: string) => resources.filter((r) => r.type === type);

  before(async () => {
    const dev = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const file = path.join(PROJECT_DIRECTORY, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(file, stringify({ config: { ...dev.config, "cloudtrail-alerts:chat": { slack: [SLACK], teams: [TEAMS] } } }));
    try {
      const run = await previewJson(STACK);
      expect(run.code, run.stderr).to.equal(0);
      resources = JSON.parse(run.stdout) as PreviewedResource[];
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("previews one Slack and one Teams channel configuration, each on the alert topic only", () => {
    const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name === "bucket-creation-alarm");
    const [alertTopicArn] = alarms[0].inputs.alarmActions as string[];
    expect(alertTopicArn).to.match(/^arn:aws:sns:ap-northeast-1:111111111111:alerts-/);

    const slack = ofType(SLACK_TYPE);
    const teams = ofType(TEAMS_TYPE);
    expect(slack.map((r) => r.name)).to.deep.equal(["chat-slack-T07EA123LEP-C07EZ1ABC23"]);
    expect(teams).to.have.length(1);
    expect(slack[0].inputs).to.deep.include({ slackTeamId: SLACK.teamId, slackChannelId: SLACK.channelId, snsTopicArns: [alertTopicArn] });
    expect(teams[0].inputs).to.deep.include({ teamId: TEAMS.teamId, channelId: TEAMS.channelId, tenantId: TEAMS.tenantId, snsTopicArns: [alertTopicArn] });
  });

  it("gives both the one chat role, trusted by Amazon Q Developer only, with no policy, under the AWSDenyAll guardrail", () => {
    const roles = ofType("aws:iam/role:Role").filter((r) => r.name === "chat-role");
    expect(roles).to.have.length(1);
    expect(JSON.parse(String(roles[0].inputs.assumeRolePolicy))).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "chatbot.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const roleChildren = resources.filter((r) => r.parent === roles[0].parent && /^aws:iam\/(rolePolicy|rolePolicyAttachment|policy):/.test(r.type));
    expect(roleChildren).to.deep.equal([]);
    for (const configuration of [...ofType(SLACK_TYPE), ...ofType(TEAMS_TYPE)]) {
      expect(configuration.inputs.iamRoleArn).to.match(/^arn:aws:iam::111111111111:role\/chat-role-/);
      expect(configuration.inputs).to.deep.include({ guardrailPolicyArns: ["arn:aws:iam::aws:policy/AWSDenyAll"], loggingLevel: "NONE", region: "us-east-2" });
    }
  });

  it("turns the notifiers' chat notifications on", () => {
    const notifiers = ofType("aws:lambda/function:Function").filter((f) => f.name.startsWith("activity-"));
    expect(notifiers.map((f) => f.name).sort()).to.deep.equal(["activity-hogehoge-handler", "activity-ssm-sessions-handler"]);
    for (const fn of notifiers) {
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(fromEnvironment({ ...variables, [ALERT_TOPIC_ARN_VARIABLE]: "arn:aws:sns:ap-northeast-1:111111111111:alerts" }).chatNotifications, fn.name).to.equal(true);
    }
  });

  it("sets only inputs the AWS API model constrains (the preview refuses a value that breaks them)", () => {
    const uncovered = [...ofType(SLACK_TYPE), ...ofType(TEAMS_TYPE)].flatMap((r) =>
      Object.keys(r.inputs).filter((input) => {
        const paths = [...Object.keys(API_CONSTRAINTS[r.type] ?? {}), ...Object.keys(NOT_API_MEMBERS["*"])];
        return !paths.some((p) => p === input || p.startsWith(`${input}[`));
      }),
    );
    expect(uncovered).to.deep.equal([]);
  });
});

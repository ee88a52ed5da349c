import { expect } from "chai";

import { AlertTopic, ChatChannels, type ChatChannelsArgs } from "../../components";
import { offlineEngine, policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const TOPIC_ARN = `arn:aws:sns:ap-northeast-1:${ACCOUNT}:alerts`;
const SLACK = { teamId: "T07EA123LEP", channelId: "C07EZ1ABC23" };
const TEAMS = { teamId: "74361522-da01-538d-aa2e-ac7918c6bb92", channelId: "19%3A4c64f77fdeb84f298d610f7030b1e13e%40thread.tacv2", tenantId: "5f4f15d2-b958-522a-8333-124aa8bf0925" };

describe("ChatChannels", () => {
  describe("a Slack and a Teams channel", () => {
    it("creates one role and one configuration per channel, each subscribed to the alert topic, all as children", async () => {
      // Prepare
      const chat = new ChatChannels("cc-both", { alertTopicArn: TOPIC_ARN, slack: [SLACK], teams: [TEAMS] });

      // Act
      const resources = await resourcesOf(chat);

      // Assess
      expect(resources.map((r) => r.type).sort()).to.deep.equal([
        "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
        "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration",
        "aws:iam/role:Role",
      ]);
      expect(resources.map((r) => r.name).sort()).to.satisfy((names: string[]) => names[0] === "cc-both-role" && names[1] === "cc-both-slack-T07EA123LEP-C07EZ1ABC23" && /^cc-both-teams-[0-9a-f]{12}$/.test(names[2]));
      const componentUrn = await valueOf(chat.urn);
      expect(resources.every((r) => r.parent === componentUrn)).to.equal(true);
      const role = single(resources, "aws:iam/role:Role");
      const slack = single(resources, "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration");
      expect(slack.inputs).to.deep.include({
        configurationName: "cc-both-slack-T07EA123LEP-C07EZ1ABC23",
        slackTeamId: "T07EA123LEP",
        slackChannelId: "C07EZ1ABC23",
        snsTopicArns: [TOPIC_ARN],
        iamRoleArn: role.state.arn,
        guardrailPolicyArns: ["arn:aws:iam::aws:policy/AWSDenyAll"],
        loggingLevel: "NONE",
        region: "us-east-2",
      });
      const teams = single(resources, "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration");
      expect(teams.inputs).to.deep.include({ teamId: TEAMS.teamId, channelId: TEAMS.channelId, tenantId: TEAMS.tenantId, snsTopicArns: [TOPIC_ARN], iamRoleArn: role.state.arn, guardrailPolicyArns: ["arn:aws:iam::aws:policy/AWSDenyAll"] });
      expect(teams.inputs.configurationName).to.equal(teams.name);
      expect(await valueOf(chat.configurationArns)).to.deep.equal([
        `arn:aws:chatbot::${ACCOUNT}:chat-configuration/slack-channel/cc-both-slack-T07EA123LEP-C07EZ1ABC23`,
        `arn:aws:chatbot::${ACCOUNT}:chat-configuration/microsoft-teams-channel/${teams.name}`,
      ]);
    });

    it("gives the role to Amazon Q Developer only, and no policy at all", async () => {
      const chat = new ChatChannels("cc-role", { alertTopicArn: TOPIC_ARN, slack: [SLACK] });
      const { cloud } = offlineEngine();
      const resources = await resourcesOf(chat);
      const role = single(resources, "aws:iam/role:Role");

      expect(policyOf(role, "assumeRolePolicy").Statement).to.deep.equal([{ Effect: "Allow", Principal: { Service: "chatbot.amazonaws.com" }, Action: "sts:AssumeRole" }]);
      expect(role.inputs.managedPolicyArns ?? []).to.deep.equal([]);
      const attached = cloud.resources.filter((r) => ["aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policy:Policy"].includes(r.type) && r.dependencies.includes(role.urn));
      expect(attached).to.deep.equal([]);
    });

    it("keeps channel names stable: a Teams channel's name follows its channel ID, not its position", async () => {
      const other = { ...TEAMS, teamId: "00000000-0000-4000-8000-000000000001", channelId: "19%3Aother%40thread.tacv2" };
      const first = await resourcesOf(new ChatChannels("cc-order-a", { alertTopicArn: TOPIC_ARN, teams: [TEAMS, other] }));
      const second = await resourcesOf(new ChatChannels("cc-order-b", { alertTopicArn: TOPIC_ARN, teams: [other, TEAMS] }));
      const nameOf = (resources: typeof first, channelId: string) => resources.find((r) => r.inputs.channelId === channelId)!.name.replace(/^cc-order-[ab]-/, "");
      expect(nameOf(first, TEAMS.channelId)).to.equal(nameOf(second, TEAMS.channelId));
      expect(nameOf(first, TEAMS.channelId)).to.not.equal(nameOf(first, other.channelId));
    }).timeout(20_000);

    it("takes the guardrail, log level and API Region given", async () => {
      const guardrail = `arn:aws:iam::${ACCOUNT}:policy/chat-read-alarms`;
      const resources = await resourcesOf(new ChatChannels("cc-custom", { alertTopicArn: TOPIC_ARN, slack: [SLACK], guardrailPolicyArns: [guardrail], loggingLevel: "ERROR", apiRegion: "eu-west-1" }));
      expect(single(resources, "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration").inputs).to.deep.include({ guardrailPolicyArns: [guardrail], loggingLevel: "ERROR", region: "eu-west-1" });
    });
  });

  it("subscribes the channels to an AlertTopic's topic", async () => {
    const topic = new AlertTopic("cc-topic", {});
    const resources = await resourcesOf(new ChatChannels("cc-on-topic", { alertTopicArn: topic.topicArn, slack: [SLACK] }));
    expect(single(resources, "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration").inputs.snsTopicArns).to.deep.equal([await valueOf(topic.topicArn)]);
  });

  describe("validateArgs", () => {
    const base: ChatChannelsArgs = { alertTopicArn: TOPIC_ARN };
    const cases: Array<[string, ChatChannelsArgs, string]> = [
      ["no channel", base, "slack and teams name no channel; give at least one"],
      ["a Slack channel name for its ID", { ...base, slack: [{ ...SLACK, channelId: "#security" }] }, 'slack[0].channelId must be a Slack channel ID such as C07EZ1ABC23 (the end of the channel\'s link, not its name), got "#security"'],
      ["a lowercase Slack workspace ID", { ...base, slack: [{ ...SLACK, teamId: "t07ea123lep" }] }, 'slack[0].teamId must be a Slack workspace ID such as T07EA123LEP (capital letters and digits), got "t07ea123lep"'],
      ["a Slack channel without its workspace", { ...base, slack: [{ channelId: "C07EZ1ABC23" } as never] }, "slack[0].teamId is required: a Slack workspace ID"],
      ["a misspelt field", { ...base, slack: [{ ...SLACK, channelID: "C1" } as never] }, 'slack[0] has unknown field "channelID"; expected teamId, channelId'],
      ["a Slack channel twice", { ...base, slack: [SLACK, { ...SLACK }] }, "slack[1] is the same channel as slack[0]; AWS configures a Slack channel once per account"],
      ["a decoded Teams channel ID", { ...base, teams: [{ ...TEAMS, channelId: "19:abc@thread.tacv2" }] }, 'teams[0].channelId must be a Teams channel ID as URL-encoded in the channel\'s link, such as 19%3Aab12...%40thread.tacv2; use the URL-encoded form "19%3Aabc%40thread.tacv2", got "19:abc@thread.tacv2"'],
      ["a Teams team ID that is no UUID", { ...base, teams: [{ ...TEAMS, teamId: "security-team" }] }, 'teams[0].teamId must be a Microsoft Teams team ID (a UUID), got "security-team"'],
      ["a Teams tenant ID that is no UUID", { ...base, teams: [{ ...TEAMS, tenantId: "example.onmicrosoft.com" }] }, 'teams[0].tenantId must be a Microsoft Entra tenant ID (a UUID), got "example.onmicrosoft.com"'],
      ["two channels of one Teams team", { ...base, teams: [TEAMS, { ...TEAMS, channelId: "19%3Aother%40thread.tacv2" }] }, `teams[1] is a second channel of team ${TEAMS.teamId} (also teams[0]); the AWS provider manages one channel per Teams team`],
      ["an empty guardrail list", { ...base, slack: [SLACK], guardrailPolicyArns: [] }, "guardrailPolicyArns is empty, which makes AWS apply AdministratorAccess"],
      ["a service-linked role's policy as guardrail", { ...base, slack: [SLACK], guardrailPolicyArns: ["arn:aws:iam::aws:policy/aws-service-role/AWSChatbotServiceLinkedRolePolicy"] }, "guardrailPolicyArns[0] must be an IAM policy ARN (not a service-linked role's)"],
      ["a log level in lowercase", { ...base, slack: [SLACK], loggingLevel: "error" as never }, 'loggingLevel must be "ERROR", "INFO" or "NONE", got "error"'],
      ["an API Region without the API", { ...base, slack: [SLACK], apiRegion: "ap-northeast-1" }, 'apiRegion must be one of the Regions of the Amazon Q Developer in chat applications API (us-east-2, us-west-2, eu-west-1, ap-southeast-1), got "ap-northeast-1"'],
    ];
    for (const [title, args, message] of cases) {
      it(`rejects ${title}, naming the argument and the value`, () => {
        expect(() => ChatChannels.validateArgs("v", args)).to.throw(`ChatChannels "v": ${message}`);
      });
    }

    it("accepts the IDs in the provider's own examples", () => {
      expect(() => ChatChannels.validateArgs("v", { ...base, slack: [SLACK], teams: [TEAMS] })).not.to.throw();
    });
  });
});

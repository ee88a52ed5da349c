import { expect } from "chai";

import { loadStackConfig } from "../../stackConfig";
import { type BadConfig, devConfig, itRejects } from "../support/stackConfig";

const KEY = "cloudtrail-alerts:chat";
const SLACK = { teamId: "T07EA123LEP", channelId: "C07EZ1ABC23" };
const TEAMS = { teamId: "74361522-da01-538d-aa2e-ac7918c6bb92", channelId: "19%3A4c64f77fdeb84f298d610f7030b1e13e%40thread.tacv2", tenantId: "5f4f15d2-b958-522a-8333-124aa8bf0925" };

describe("stack config chat", () => {
  it("is off by default: the dev stack and an empty object name no channel, and notifiers send no chat format", () => {
    for (const value of [undefined, "{}", '{"slack":[],"teams":[]}']) {
      const config = loadStackConfig(devConfig({ [KEY]: value }));
      expect(config.chat, String(value)).to.equal(undefined);
      expect(config.userActivityNotifiers.map((n) => n.chatNotifications)).to.deep.equal([false, false]);
    }
  });

  it("reads Slack and Teams channels as written", () => {
    const config = loadStackConfig(devConfig({ [KEY]: JSON.stringify({ slack: [SLACK], teams: [TEAMS] }) }));
    expect(config.chat).to.deep.equal({ slack: [SLACK], teams: [TEAMS] });
  });

  it("turns the notifiers' chat notifications on when a channel is named, unless a notifier turns them off", () => {
    const notifiers = JSON.stringify({ quiet: { userNames: ["a"], chatNotifications: false }, loud: { userNames: ["b"] } });
    const config = loadStackConfig(devConfig({ [KEY]: JSON.stringify({ slack: [SLACK] }), "cloudtrail-alerts:userActivityNotifiers": notifiers }));
    expect(config.userActivityNotifiers.map((n) => [n.name, n.chatNotifications])).to.deep.equal([
      ["quiet", false],
      ["loud", true],
    ]);
  });

  const bad: BadConfig[] = [
    ["a list", { [KEY]: JSON.stringify([SLACK]) }, `${KEY} must be an object { slack: [{ teamId, channelId }], teams: [{ teamId, channelId, tenantId }] }, got [`],
    ["a misspelt field", { [KEY]: JSON.stringify({ slak: [SLACK] }) }, `${KEY}.slak is not a field of the chat channels; expected slack, teams`],
    ["slack given as one object", { [KEY]: JSON.stringify({ slack: SLACK }) }, `${KEY}.slack must be a list of { teamId, channelId }, got {`],
    ["a Slack channel name", { [KEY]: JSON.stringify({ slack: [{ ...SLACK, channelId: "security-alerts" }] }) }, `${KEY}.slack[0].channelId must be a Slack channel ID such as C07EZ1ABC23 (the end of the channel's link, not its name), got "security-alerts"`],
    ["a Slack channel without its workspace", { [KEY]: JSON.stringify({ slack: [{ channelId: "C07EZ1ABC23" }] }) }, `${KEY}.slack[0].teamId is required: a Slack workspace ID such as T07EA123LEP`],
    ["a decoded Teams channel ID", { [KEY]: JSON.stringify({ teams: [{ ...TEAMS, channelId: "19:abc@thread.tacv2" }] }) }, `${KEY}.teams[0].channelId must be a Teams channel ID as URL-encoded in the channel's link, such as 19%3Aab12...%40thread.tacv2; use the URL-encoded form "19%3Aabc%40thread.tacv2", got "19:abc@thread.tacv2"`],
    ["a Teams channel without its tenant", { [KEY]: JSON.stringify({ teams: [{ teamId: TEAMS.teamId, channelId: TEAMS.channelId }] }) }, `${KEY}.teams[0].tenantId is required: a Microsoft Entra tenant ID (a UUID)`],
  ];
  itRejects(bad);
});

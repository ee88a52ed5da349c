import { expect } from "chai";

import { loadStackFiles } from "../../preview/stackFiles";
import { loadStackConfig, type RawConfig, StackConfigError } from "../../stackConfig";
import { PROJECT_DIRECTORY } from "../support/engine";

const KEY = "cloudtrail-alerts:userActivityNotifiers";

/** The dev stack's config with `userActivityNotifiers` replaced by `value` (as Pulumi passes it: JSON text). */
function withNotifiers(value: unknown): RawConfig {
  const config = loadStackFiles(PROJECT_DIRECTORY, "dev").config;
  return (key) => (key === KEY ? JSON.stringify(value) : config[key]);
}

function errorOf(value: unknown): StackConfigError {
  try {
    loadStackConfig(withNotifiers(value));
  } catch (error) {
    if (error instanceof StackConfigError) return error;
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

describe("stack config: userActivityNotifiers", () => {
  it("reads the dev stack's notifiers with the stack's time zone and language", () => {
    const config = loadStackConfig((key) => loadStackFiles(PROJECT_DIRECTORY, "dev").config[key]);

    expect(config.userActivityNotifiers).to.deep.equal([
      { name: "hogehoge", criteria: { userNames: ["hogehoge"] }, source: "logs", timeZone: "Asia/Tokyo", language: "ja", chatNotifications: false, deduplicate: true },
      { name: "ssm-sessions", criteria: { presets: ["ssm-sessions"] }, source: "eventbridge", timeZone: "Asia/Tokyo", language: "ja", chatNotifications: false, deduplicate: true },
    ]);
  });

  it("reads burst grouping settings, or grouping turned off", () => {
    const config = loadStackConfig(withNotifiers({ quiet: { userNames: ["a"], grouping: false }, deploys: { userNames: ["ci"], grouping: { windowSeconds: 600, maxMessagesPerHour: 30 } } }));

    expect(config.userActivityNotifiers.map((n) => [n.name, n.grouping])).to.deep.equal([
      ["quiet", false],
      ["deploys", { windowSeconds: 600, maxMessagesPerHour: 30 }],
    ]);
  });

  it("defaults to none", () => {
    const config = loadStackFiles(PROJECT_DIRECTORY, "dev").config;

    expect(loadStackConfig((key) => (key === KEY ? undefined : config[key])).userActivityNotifiers).to.deep.equal([]);
  });

  it("reads every setting of an entry", () => {
    const config = loadStackConfig(
      withNotifiers({
        admins: {
          principalArns: ["arn:aws:iam::123456789012:role/admin"],
          exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/admin"], eventNames: ["Describe*"] }],
          readOnlyEvents: "exclude",
          regions: ["us-east-1", "eu-west-1"],
          timeZone: "Europe/Berlin",
          language: "en",
          chatNotifications: true,
          deduplicate: false,
        },
      }),
    );

    expect(config.userActivityNotifiers).to.deep.equal([
      {
        name: "admins",
        criteria: {
          principalArns: ["arn:aws:iam::123456789012:role/admin"],
          readOnlyEvents: "exclude",
          exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/admin"], eventNames: ["Describe*"] }],
        },
        source: "eventbridge",
        regions: ["us-east-1", "eu-west-1"],
        timeZone: "Europe/Berlin",
        language: "en",
        chatNotifications: true,
        deduplicate: false,
      },
    ]);
  });

  const cases: Array<[string, unknown, string]> = [
    ["a list instead of an object", [{ userNames: ["a"] }], `${KEY} must be an object of notifiers by name, got [{"userNames":["a"]}]`],
    ["a name with capitals", { Admins: { userNames: ["a"] } }, `${KEY}.Admins is not a valid notifier name`],
    ["a bad user name, with the full path", { ops: { userNames: ["ok", "bad\tname"] } }, `${KEY}.ops.userNames[1] must be a user name (1-128 characters, no control characters), got "bad\\tname"`],
    ["an unknown preset", { ops: { presets: ["ssh"] } }, `${KEY}.ops.presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, root-activity, unauthorized-calls, no-mfa-sign-in, iam-policy-changes, trail-changes, console-auth-failures, key-deletion, bucket-policy-changes, config-changes, security-group-changes, network-acl-changes, network-gateway-changes, route-table-changes, vpc-changes, network-changes, got "ssh"`],
    ["an unknown setting", { ops: { userNames: ["a"], region: "us-east-1" } }, `${KEY}.ops.region is not a known setting`],
    ["an unknown source", { ops: { userNames: ["a"], source: "kinesis" } }, `${KEY}.ops.source must be "eventbridge" or "logs", got "kinesis"`],
    ["Regions with the logs source", { ops: { userNames: ["a"], source: "logs", regions: ["us-east-1"] } }, `${KEY}.ops.regions applies only to source "eventbridge", got ["us-east-1"] with source "logs"`],
    ["an unknown Region", { ops: { userNames: ["a"], regions: ["tokyo"] } }, `${KEY}.ops.regions[0] must be an AWS region such as us-east-1, got "tokyo"`],
    ["an unknown time zone", { ops: { userNames: ["a"], timeZone: "Tokyo" } }, `${KEY}.ops.timeZone must be an IANA time zone such as Asia/Tokyo, got "Tokyo"`],
    ["an unknown language", { ops: { userNames: ["a"], language: "de" } }, `${KEY}.ops.language must be "ja" or "en", got "de"`],
    ["chat given as text", { ops: { userNames: ["a"], chatNotifications: "yes" } }, `${KEY}.ops.chatNotifications must be true or false, got "yes"`],
    ["deduplicate given as text", { ops: { userNames: ["a"], deduplicate: "no" } }, `${KEY}.ops.deduplicate must be true or false, got "no"`],
    ["an entry that watches nothing", { ops: { language: "en" } }, `${KEY}.ops must name at least one of userNames`],
    ["grouping given as true", { ops: { userNames: ["a"], grouping: true } }, `${KEY}.ops.grouping must be false or { windowSeconds, maxMessagesPerHour }, got true`],
    ["a grouping window too short", { ops: { userNames: ["a"], grouping: { windowSeconds: 10 } } }, `${KEY}.ops.grouping.windowSeconds must be a whole number from 60 to 3600, got 10`],
    ["grouping without the journal table", { ops: { userNames: ["a"], deduplicate: false, grouping: { windowSeconds: 60 } } }, `${KEY}.ops.grouping keeps its state in the sent journal's table`],
  ];
  for (const [title, value, message] of cases) {
    it(`rejects ${title}, naming the key path and the value`, () => {
      const error = errorOf(value);

      expect(error.key).to.equal(KEY);
      expect(error.message).to.include(message);
    });
  }
});

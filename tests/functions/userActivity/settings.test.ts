import { expect } from "chai";
import fc from "fast-check";

import { ALERT_TOPIC_ARN_VARIABLE, INVALID_ENVIRONMENT_ERROR } from "../../../functions/shared/environment";
import { ACTIVITY_PRESET_NAMES } from "../../../functions/userActivity/criteria";
import { fromEnvironment, toEnvironment, type UserActivitySettings } from "../../../functions/userActivity/settings";
import { TOPIC_ARN } from "./samples";

/** The error `body` throws (fails the test when it throws nothing). */
function thrown(body: () => unknown): Error & { variable?: string } {
  try {
    body();
  } catch (error) {
    return error as Error & { variable?: string };
  }
  throw new Error("expected an error, got none");
}

/** What the function's environment holds for `settings`: its own variables and the alert topic's. */
function deployedEnvironment({ topicArn, ...rest }: UserActivitySettings): Record<string, string> {
  return { ...toEnvironment(rest), [ALERT_TOPIC_ARN_VARIABLE]: topicArn };
}

describe("userActivity settings", () => {
  describe("toEnvironment", () => {
    const representative: Array<[string, UserActivitySettings]> = [
      ["a preset, in Japanese, with chat and a sent journal", { topicArn: TOPIC_ARN, timeZone: "Asia/Tokyo", language: "ja", criteria: { presets: ["ssm-sessions"] }, chatNotifications: true, sentTableName: "activity-sent-1234567" }],
      ["a user, in English, without chat or journal", { topicArn: TOPIC_ARN, timeZone: "UTC", language: "en", criteria: { userNames: ["hogehoge"] }, chatNotifications: false }],
      [
        "burst grouping with its journal table",
        { topicArn: TOPIC_ARN, timeZone: "UTC", language: "en", criteria: { presets: ["root-activity"] }, chatNotifications: false, sentTableName: "t", burst: { windowSeconds: 600, maxMessagesPerHour: 20 } },
      ],
      [
        "every kind of criterion, exclusions included",
        {
          topicArn: TOPIC_ARN,
          timeZone: "America/New_York",
          language: "en",
          criteria: {
            userNames: ["o'brien"],
            principalArns: ["arn:aws:iam::111122223333:role/ops-*"],
            sessionNames: ["alice@example.com"],
            eventSources: ["iam.amazonaws.com"],
            eventNames: ["Create*", "DeleteUser"],
            presets: ["iam-changes", "console-sign-in"],
            readOnlyEvents: "exclude",
            exclude: [{ principalArns: ["arn:aws:iam::111122223333:role/monitoring"], eventNames: ["Describe*"] }],
          },
          chatNotifications: true,
        },
      ],
    ];
    for (const [title, settings] of representative) {
      it(`round-trips through fromEnvironment: ${title}`, () => {
        expect(fromEnvironment(deployedEnvironment(settings))).to.deep.equal(settings);
      });
    }

    it("round-trips any combination of zone, language, flags and presets (property)", () => {
      fc.assert(
        fc.property(
          fc.constantFrom("UTC", "Asia/Tokyo", "Europe/Paris", "Australia/Lord_Howe"),
          fc.constantFrom("ja" as const, "en" as const),
          fc.boolean(),
          fc.option(fc.stringMatching(/^[A-Za-z0-9_.-]{3,255}$/), { nil: undefined }),
          fc.uniqueArray(fc.constantFrom(...ACTIVITY_PRESET_NAMES), { minLength: 1 }),
          (timeZone, language, chatNotifications, sentTableName, presets) => {
            const settings: UserActivitySettings = { topicArn: TOPIC_ARN, timeZone, language, criteria: { presets }, chatNotifications, ...(sentTableName === undefined ? {} : { sentTableName }) };
            expect(fromEnvironment(deployedEnvironment(settings))).to.deep.equal(settings);
          },
        ),
      );
    });

    it("writes the function's own variables and leaves the alert topic's to the function", () => {
      const environment = toEnvironment({ timeZone: "UTC", language: "en", criteria: { userNames: ["hogehoge"] }, chatNotifications: false, sentTableName: "t" });

      expect(environment).to.deep.equal({
        ACTIVITY_TIME_ZONE: "UTC",
        ACTIVITY_LANGUAGE: "en",
        ACTIVITY_CRITERIA: '{"userNames":["hogehoge"]}',
        ACTIVITY_CHAT_NOTIFICATIONS: "false",
        ACTIVITY_SENT_TABLE: "t",
      });
      expect(environment).not.to.have.property(ALERT_TOPIC_ARN_VARIABLE);
    });

    it("passes a value known only on deployment through untouched", () => {
      const deferred = { later: "table name" };

      expect(toEnvironment<typeof deferred>({ timeZone: "UTC", language: "en", criteria: { userNames: ["hogehoge"] }, chatNotifications: false, sentTableName: deferred }).ACTIVITY_SENT_TABLE).to.equal(deferred);
    });
  });

  describe("fromEnvironment", () => {
    const env = {
      ALERT_TOPIC_ARN: TOPIC_ARN,
      ACTIVITY_TIME_ZONE: "Asia/Tokyo",
      ACTIVITY_LANGUAGE: "ja",
      ACTIVITY_CRITERIA: '{"presets":["ssm-sessions"]}',
      ACTIVITY_CHAT_NOTIFICATIONS: "true",
    };

    it("reads every setting", () => {
      expect(fromEnvironment(env)).to.deep.equal({
        topicArn: TOPIC_ARN,
        timeZone: "Asia/Tokyo",
        language: "ja",
        criteria: { presets: ["ssm-sessions"] },
        chatNotifications: true,
      });
    });

    it("reads the sent journal's table when the function has one", () => {
      expect(fromEnvironment({ ...env, ACTIVITY_SENT_TABLE: "activity-sent-1234567" }).sentTableName).to.equal("activity-sent-1234567");
    });

    const cases: Array<[string, Record<string, string>, string]> = [
      ["a missing variable", { ACTIVITY_TIME_ZONE: "" }, "environment variable ACTIVITY_TIME_ZONE is not set"],
      ["an unknown time zone", { ACTIVITY_TIME_ZONE: "Mars/Olympus" }, 'environment variable ACTIVITY_TIME_ZONE must be an IANA time zone, got "Mars/Olympus"'],
      ["an unknown language", { ACTIVITY_LANGUAGE: "fr" }, 'environment variable ACTIVITY_LANGUAGE must be "ja" or "en", got "fr"'],
      ["criteria that are not JSON", { ACTIVITY_CRITERIA: "{" }, "environment variable ACTIVITY_CRITERIA must be JSON"],
      ["invalid criteria", { ACTIVITY_CRITERIA: '{"presets":["ssh"]}' }, 'environment variable ACTIVITY_CRITERIA is invalid: ACTIVITY_CRITERIA.presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, root-activity, unauthorized-calls, no-mfa-sign-in, iam-policy-changes, trail-changes, console-auth-failures, key-deletion, bucket-policy-changes, config-changes, security-group-changes, network-acl-changes, network-gateway-changes, route-table-changes, vpc-changes, network-changes, got "ssh"'],
      ["a chat flag that is not a boolean", { ACTIVITY_CHAT_NOTIFICATIONS: "yes" }, 'environment variable ACTIVITY_CHAT_NOTIFICATIONS must be "true" or "false", got "yes"'],
    ];
    for (const [title, override, message] of cases) {
      it(`fails at cold start on ${title}, naming the variable`, () => {
        expect(() => fromEnvironment({ ...env, ...override })).to.throw(message);
      });
    }
  });

  describe("burst settings", () => {
    it("writes the window and the message cap, and groups nothing without them", () => {
      const burst = { windowSeconds: 300, maxMessagesPerHour: 100 };
      expect(toEnvironment({ timeZone: "UTC", language: "en", criteria: { userNames: ["x"] }, chatNotifications: false, sentTableName: "t", burst })).to.deep.include({
        ACTIVITY_BURST_WINDOW_SECONDS: "300",
        ACTIVITY_BURST_MAX_MESSAGES_PER_HOUR: "100",
      });
      const withoutBurst = deployedEnvironment({ topicArn: TOPIC_ARN, timeZone: "UTC", language: "en", criteria: { userNames: ["x"] }, chatNotifications: false, sentTableName: "t" });
      expect(fromEnvironment(withoutBurst)).to.not.have.property("burst");
    });

    it("takes 100 messages an hour when only the window is given", () => {
      const env = { ...deployedEnvironment({ topicArn: TOPIC_ARN, timeZone: "UTC", language: "en", criteria: { userNames: ["x"] }, chatNotifications: false, sentTableName: "t" }), ACTIVITY_BURST_WINDOW_SECONDS: "120" };
      expect(fromEnvironment(env).burst).to.deep.equal({ windowSeconds: 120, maxMessagesPerHour: 100 });
    });
  });

  describe("each bad variable fails at cold start with InvalidEnvironmentError naming it", () => {
    const env = deployedEnvironment({ topicArn: TOPIC_ARN, timeZone: "Asia/Tokyo", language: "ja", criteria: { presets: ["ssm-sessions"] }, chatNotifications: false, sentTableName: "t", burst: { windowSeconds: 300, maxMessagesPerHour: 100 } });
    const cases: Array<[string, string, string | undefined]> = [
      ["ACTIVITY_TIME_ZONE", "missing", undefined],
      ["ACTIVITY_TIME_ZONE", "not a time zone", "Mars/Olympus"],
      ["ACTIVITY_LANGUAGE", "missing", undefined],
      ["ACTIVITY_LANGUAGE", "not a language", "fr"],
      ["ACTIVITY_CRITERIA", "missing", undefined],
      ["ACTIVITY_CRITERIA", "not JSON", "{"],
      ["ACTIVITY_CRITERIA", "invalid criteria", "{}"],
      ["ACTIVITY_CHAT_NOTIFICATIONS", "not a boolean", "yes"],
      [ALERT_TOPIC_ARN_VARIABLE, "missing", undefined],
      ["ACTIVITY_BURST_WINDOW_SECONDS", "not a whole number of seconds", "5.5"],
      ["ACTIVITY_BURST_WINDOW_SECONDS", "over an hour", "7200"],
      ["ACTIVITY_BURST_WINDOW_SECONDS", "without the journal table", undefined],
      ["ACTIVITY_BURST_MAX_MESSAGES_PER_HOUR", "zero", "0"],
    ];
    for (const [variable, problem, value] of cases) {
      it(`${variable}: ${problem}`, () => {
        // Without its table, the window itself is the bad variable: grouping keeps its state in that table.
        const bad: Record<string, string | undefined> = problem === "without the journal table" ? { ...env, ACTIVITY_SENT_TABLE: undefined } : { ...env, [variable]: value };

        const error = thrown(() => fromEnvironment(bad));

        expect(error.name).to.equal(INVALID_ENVIRONMENT_ERROR);
        expect(error.variable).to.equal(variable);
        expect(error.message).to.match(new RegExp(`^environment variable ${variable} `));
      });
    }
  });
});

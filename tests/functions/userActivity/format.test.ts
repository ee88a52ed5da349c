import { expect } from "chai";
import fc from "fast-check";

import { CHAT_VALUE_MAX_CHARACTERS, structuredMessage } from "../../../functions/userActivity/chatNotification";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { describePrincipal } from "../../../functions/shared/readableEvent";
import { activityChatNotification, formatActivity } from "../../../functions/userActivity/format";
import { record, recordFixtureNames } from "../../../simulation/fixtures";
import { hugeEvent, ssm, SSM_EN, SSM_JA, TOKYO_EN, TOKYO_JA } from "./samples";

/** `rec` without `fields` (which a decoded record always has, and formatActivity must do without). */
function without(rec: CloudTrailRecord, ...fields: string[]): CloudTrailRecord {
  return Object.fromEntries(Object.entries(rec).filter(([key]) => !fields.includes(key))) as CloudTrailRecord;
}

describe("userActivity format", () => {
  describe("formatActivity", () => {
    it("writes the SSM StartSession sample in Japanese, as one subscription filter per notifier (docs/sourceArticles.md) did, with the time in Tokyo", () => {
      expect(formatActivity(ssm, TOKYO_JA)).to.deep.equal({ subject: "[ap-northeast-1] ssm:StartSession by hogehoge", message: SSM_JA });
    });

    it("writes it in English", () => {
      expect(formatActivity(ssm, TOKYO_EN)).to.deep.equal({ subject: "[ap-northeast-1] ssm:StartSession by hogehoge", message: SSM_EN });
    });

    it("never shows the session token CloudTrail hid", () => {
      const { subject, message } = formatActivity(ssm, TOKYO_JA);

      expect(`${subject}\n${message}`).to.not.match(/tokenValue|hidden due to security|streamUrl/i);
    });

    for (const name of recordFixtureNames()) {
      for (const options of [TOKYO_JA, TOKYO_EN]) {
        it(`formats ${name} in ${options.language}: a valid subject, a principal line, no undefined, no secrets`, () => {
          const rec = record(name);
          const { subject, message } = formatActivity(rec, options);
          const principalLabel = options.language === "ja" ? "ユーザネーム" : "Principal";

          expect(subject).to.match(/^\[[a-z0-9-]+\] (FAILED )?[a-z0-9-]+:[A-Za-z]+ by [\x20-\x7e]+$/);
          expect(subject.length).to.be.at.most(99);
          expect(message.split("\n")).to.include(`${principalLabel}: ${describePrincipal(rec.userIdentity, options.language)}`);
          expect(message).to.not.match(/undefined|\[object Object\]|HIDDEN_DUE_TO_SECURITY_REASONS|sessionToken/);
        });
      }
    }

    it("says a call failed, with its error code and message, in the subject, summary and an error line", () => {
      const { subject, message } = formatActivity(record("sso-create-user-access-denied.json"), TOKYO_EN);
      const lines = message.split("\n");

      expect(subject).to.equal("[us-east-1] FAILED iam:CreateUser by alice@example.com (AccessDenied)");
      expect(lines[0]).to.equal("alice@example.com (IAM Identity Center user, permission set ReadOnly) tried to call iam:CreateUser in us-east-1, and it failed (AccessDenied).");
      expect(lines).to.include(
        "Error: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.com is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory because no identity-based policy allows the iam:CreateUser action",
      );
    });

    it("writes a failed root console sign-in in Japanese, with MFA and the failure", () => {
      const { subject, message } = formatActivity(record("root-console-login-failure.json"), TOKYO_JA);

      expect(subject).to.equal("[us-east-1] FAILED signin:ConsoleLogin by root");
      expect(message.split("\n").slice(0, 14)).to.deep.equal([
        "root (アカウント 123456789012 のルートユーザー) が AWS マネジメントコンソールへのサインインに失敗しました。",
        "",
        "発生時刻: 2025-01-10 07:04:51 +09:00",
        "リージョン: us-east-1",
        "イベント: signin.amazonaws.com",
        "イベントネーム: ConsoleLogin",
        "ユーザネーム: root (アカウント 123456789012 のルートユーザー)",
        "接続元IPアドレス: 203.0.113.200",
        "ユーザーエージェント: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "対象リソース: -",
        "アカウント: 123456789012",
        "MFA 使用: No",
        "エラー: Failed authentication",
        "CloudTrail: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/c0ffee00-1234-4abc-8def-0123456789ab",
      ]);
    });

    it("keeps Japanese text and drops the parameter value CloudTrail hid", () => {
      const { message } = formatActivity(record("sso-put-parameter-japanese.json"), TOKYO_JA);

      expect(message).to.include("対象リソース: /app/本番/データベース接続");
      expect(message).to.include('"description": "本番環境のデータベース接続文字列(日本語の説明)"');
      expect(message).to.not.include('"value"');
    });

    it("formats a record without userName, sourceIPAddress, userAgent and requestParameters", () => {
      const optional = ["userAgent", "sourceIPAddress", "requestParameters"];
      const rest = Object.fromEntries(Object.entries(ssm).filter(([key]) => !optional.includes(key))) as CloudTrailRecord;
      const bare: CloudTrailRecord = { ...rest, userIdentity: { type: "IAMUser", accountId: "123456789012" } };

      const { subject, message } = formatActivity(bare, TOKYO_EN);

      expect(subject).to.equal("[ap-northeast-1] ssm:StartSession by unknown user (name hidden)");
      expect(message.split("\n").slice(6, 10)).to.deep.equal([
        "Principal: unknown (IAM user, name hidden by CloudTrail)",
        "Source IP address: -",
        "User agent: -",
        "Target resource: -",
      ]);
      expect(message).to.not.include("Request parameters");
    });

    it("gives no console link to a record without an event ID, and no undefined in its place", () => {
      const { message } = formatActivity(without(ssm, "eventID"), TOKYO_EN);

      expect(message).to.not.match(/CloudTrail: |undefined/);
      expect(message).to.equal(SSM_EN.split("\n").filter((line) => !line.startsWith("CloudTrail: ")).join("\n"));
    });

    it("shows the account of the identity's ARN when the record names no account ID", () => {
      const rec = { ...without(ssm, "recipientAccountId"), userIdentity: { type: "IAMUser", userName: "hogehoge", arn: "arn:aws:iam::111122223333:user/hogehoge" } } as CloudTrailRecord;

      expect(formatActivity(rec, TOKYO_JA).message.split("\n")).to.include("アカウント: 111122223333");
    });

    it("shows a record's missing time, Region, event source and name as absent", () => {
      const { subject, message } = formatActivity(without(ssm, "eventTime", "awsRegion", "eventSource", "eventName"), TOKYO_EN);

      expect(subject).to.equal("(no event name) by hogehoge");
      expect(message.split("\n").slice(0, 6)).to.deep.equal(["hogehoge (IAM user) called (no event name).", "", "Time: -", "Region: -", "Event source: -", "Event name: -"]);
      expect(message).to.not.include("CloudTrail: ");
    });

    it("keeps a line break in a value from forging lines of the message", () => {
      const forged = { ...ssm, userAgent: "curl/8\nユーザネーム: admin" };

      const lines = formatActivity(forged, TOKYO_JA).message.split("\n");

      expect(lines.filter((line) => line.startsWith("ユーザネーム:"))).to.deep.equal(["ユーザネーム: hogehoge (IAM ユーザー)"]);
      expect(lines).to.include("ユーザーエージェント: curl/8 ユーザネーム: admin");
    });

    for (const options of [TOKYO_JA, TOKYO_EN]) {
      it(`cuts a huge event's request parameters with a visible note, keeping every line and the link (${options.language})`, () => {
        const huge = hugeEvent();
        expect(Buffer.byteLength(JSON.stringify(huge), "utf8")).to.be.greaterThan(262_144);

        const { message } = formatActivity(huge, options);

        expect(Buffer.byteLength(message, "utf8")).to.be.at.most(262_144);
        expect(message).to.not.include("\uFFFD");
        expect(message.split("\n").slice(0, 13).join("\n")).to.equal(formatActivity(record("assumed-role-put-role-policy.json"), options).message.split("\n").slice(0, 13).join("\n"));
        expect(message.split("\n").pop()).to.match(options.language === "ja" ? /^\(長すぎるため以降を省略しました。元の長さは \d+ バイトです。/ : /^\(cut: the rest is too long for a notification; it was \d+ bytes\./);
      });
    }

    it("always gives an ASCII one-line subject of at most 99 characters and a message SNS accepts (property)", () => {
      const anyText = fc.string({ unit: "grapheme", maxLength: 120 });
      fc.assert(
        fc.property(
          fc.record({
            eventName: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
            eventSource: fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }),
            awsRegion: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
            userIdentity: fc.record({ type: fc.constantFrom("IAMUser", "AssumedRole", "Root", "AWSService", "Unknown"), userName: anyText, arn: anyText, principalId: anyText, invokedBy: anyText }, { requiredKeys: ["type"] }),
            errorCode: fc.option(anyText, { nil: undefined }),
            userAgent: fc.option(anyText, { nil: undefined }),
          }),
          fc.constantFrom(TOKYO_JA, TOKYO_EN),
          (fields, options) => {
            const rec = { ...ssm, ...fields } as CloudTrailRecord;
            const { subject, message } = formatActivity(rec, options);
            expect(subject).to.match(/^[\x21-\x7e][\x20-\x7e]*$/);
            expect(subject.length).to.be.at.most(99);
            expect(Buffer.byteLength(message, "utf8")).to.be.at.most(262_144);
            expect(message).to.not.include("undefined");
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("activityChatNotification", () => {
    it("is an Amazon Q Developer custom notification with the summary, the lines and the link", () => {
      const chat = JSON.parse(activityChatNotification(ssm, TOKYO_JA)) as Record<string, unknown>;

      expect(chat).to.deep.equal({
        version: "1.0",
        source: "custom",
        id: "9a8b7c6d-5e4f-4321-9abc-def012345678",
        content: {
          textType: "client-markdown",
          title: "hogehoge (IAM ユーザー) が ap-northeast-1 で ssm:StartSession を実行しました。",
          description: SSM_JA.split("\n")
            .slice(2, 11)
            .map((line) => line.replace(/^([^:]+): /, "*$1*: "))
            .join("\n"),
          nextSteps: ["CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678"],
          keywords: ["ap-northeast-1", "ssm:StartSession", "iam-user"],
        },
        metadata: {
          summary: "[ap-northeast-1] ssm:StartSession by hogehoge",
          eventType: "CloudTrailUserActivity",
          relatedResources: ["i-0123456789abcdef0"],
          additionalContext: { eventID: "9a8b7c6d-5e4f-4321-9abc-def012345678" },
        },
      });
    });

    it("has no ID, next step or event ID context for a record without an event ID", () => {
      const chat = JSON.parse(activityChatNotification(without(ssm, "eventID"), TOKYO_EN)) as { id?: string; content: { nextSteps?: string[] }; metadata: Record<string, unknown> };

      expect([chat.id, chat.content.nextSteps, chat.metadata.additionalContext]).to.deep.equal([undefined, undefined, undefined]);
    });

    it("leaves room for the email text in one SNS message even for an event ID of 100,000 characters", () => {
      const absurd = { ...ssm, eventID: "🦊".repeat(100_000) };
      const chat = activityChatNotification(absurd, TOKYO_JA);

      const document = structuredMessage(formatActivity(absurd, TOKYO_JA).message, chat);

      expect(Buffer.byteLength(chat, "utf8")).to.be.below(64 * 1024);
      expect((JSON.parse(chat) as { id: string }).id).to.have.length.below(2 * CHAT_VALUE_MAX_CHARACTERS);
      expect(Buffer.byteLength(document, "utf8")).to.be.at.most(262_144);
    });

    it("fits with the email text into one SNS message, cutting the text for a huge event", () => {
      const huge = hugeEvent();
      const chat = activityChatNotification(huge, TOKYO_JA);

      const document = structuredMessage(formatActivity(huge, TOKYO_JA).message, chat);

      expect(Buffer.byteLength(document, "utf8")).to.be.at.most(262_144);
      expect((JSON.parse(document) as { https: string }).https).to.equal(chat);
    });
  });

});

import { expect } from "chai";
import fc from "fast-check";

import type { UserIdentity } from "../../../functions/shared/cloudtrailEvents";
import {
  accountOfArn,
  callName,
  describePrincipal,
  describeTarget,
  failureOf,
  formatEventTime,
  formatLocalTime,
  identifyPrincipal,
  oneLine,
  principalName,
  redactHidden,
} from "../../../functions/shared/readableEvent";
import { fixture, record, recordFixtureNames } from "../../../simulation/fixtures";

describe("readableEvent", () => {
  describe("formatLocalTime", () => {
    const cases: Array<[string, string, string]> = [
      ["2023-04-25T09:47:10Z", "Asia/Tokyo", "2023-04-25 18:47:10 +09:00"],
      ["2023-04-25T09:47:10Z", "UTC", "2023-04-25 09:47:10 +00:00"],
      ["2025-01-09T22:04:51Z", "Asia/Tokyo", "2025-01-10 07:04:51 +09:00"],
      ["2024-03-10T06:59:59Z", "America/New_York", "2024-03-10 01:59:59 -05:00"],
      ["2024-03-10T07:00:00Z", "America/New_York", "2024-03-10 03:00:00 -04:00"],
      ["2024-06-01T00:00:00Z", "Asia/Kolkata", "2024-06-01 05:30:00 +05:30"],
      ["2024-06-01T00:00:00Z", "Asia/Kathmandu", "2024-06-01 05:45:00 +05:45"],
      ["2024-06-01T12:00:00Z", "America/St_Johns", "2024-06-01 09:30:00 -02:30"],
      ["2024-12-31T23:59:59.999Z", "Asia/Tokyo", "2025-01-01 08:59:59 +09:00"],
    ];
    for (const [instant, zone, expected] of cases) {
      it(`shows ${instant} in ${zone} as ${expected}`, () => {
        expect(formatLocalTime(instant, zone)).to.equal(expected);
      });
    }

    it("returns an unparsable time unchanged", () => {
      expect(formatLocalTime("yesterday", "Asia/Tokyo")).to.equal("yesterday");
      expect(formatLocalTime(new Date(Number.NaN), "Asia/Tokyo")).to.equal("Invalid Date");
    });

    it("shows a Date as it shows the same instant written in ISO 8601", () => {
      for (const [instant, zone, expected] of cases) {
        expect(formatLocalTime(new Date(instant), zone)).to.equal(expected);
      }
    });

    it("refuses a time zone that is not an IANA name", () => {
      expect(() => formatLocalTime(new Date(0), "Tokyo")).to.throw(RangeError);
    });

    it("always names the same instant, whole seconds, in any zone (property)", () => {
      const zones = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"];
      fc.assert(
        fc.property(fc.date({ min: new Date("1971-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }), fc.constantFrom(...zones), (date, zone) => {
          const shown = formatLocalTime(date.toISOString(), zone);
          const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2}):(\d{2})$/.exec(shown);
          expect(match, shown).to.not.equal(null);
          const [, y, mo, d, h, mi, s, sign, oh, om] = match!;
          const offset = (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
          const instant = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offset * 60000;
          expect(instant).to.equal(Math.floor(date.getTime() / 1000) * 1000);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("describePrincipal", () => {
    const cases: Array<[string, UserIdentity, string, string]> = [
      ["an IAM user", fixture<{ detail: { userIdentity: UserIdentity } }>("eventbridge/ssm-start-session.json").detail.userIdentity, "hogehoge (IAM user)", "hogehoge (IAM ユーザー)"],
      ["an assumed role", record("assumed-role-put-role-policy.json").userIdentity, "deploy-2024-05-14 (assumed role ci-deployer)", "deploy-2024-05-14 (ロール ci-deployer を引き受けたセッション)"],
      [
        "a role session a service used for the caller (invokedBy is not part of the description)",
        { type: "AssumedRole", arn: "arn:aws:sts::123456789012:assumed-role/analyst/bob", accountId: "123456789012", invokedBy: "athena.amazonaws.com" },
        "bob (assumed role analyst)",
        "bob (ロール analyst を引き受けたセッション)",
      ],
      [
        "an IAM Identity Center session",
        record("sso-create-user-access-denied.json").userIdentity,
        "alice@example.com (IAM Identity Center user, permission set ReadOnly)",
        "alice@example.com (IAM Identity Center ユーザー、許可セット ReadOnly)",
      ],
      [
        "an IAM Identity Center user (portal)",
        record("identity-center-user-list-accounts.json").userIdentity,
        "544894e8-80c1-707f-60e3-3ba6510dfac1 (IAM Identity Center user)",
        "544894e8-80c1-707f-60e3-3ba6510dfac1 (IAM Identity Center ユーザー)",
      ],
      ["the root user", record("root-console-login-failure.json").userIdentity, "root (root user of account 123456789012)", "root (アカウント 123456789012 のルートユーザー)"],
      ["an AWS service", record("aws-service-assume-role.json").userIdentity, "lambda.amazonaws.com (AWS service)", "lambda.amazonaws.com (AWS サービス)"],
      ["a federated user", record("federated-user-list-buckets.json").userIdentity, "build-bot (federated user)", "build-bot (フェデレーションユーザー)"],
      ["another account", record("aws-account-kms-decrypt.json").userIdentity, "AROAEXAMPLEOTHER0001:reporting (another AWS account)", "AROAEXAMPLEOTHER0001:reporting (別の AWS アカウント)"],
      ["a user CloudTrail hid", record("iam-user-console-login-hidden-name.json").userIdentity, "unknown (IAM user, name hidden by CloudTrail)", "名前不明 (IAM ユーザー、CloudTrail が名前を伏せています)"],
      ["an Unknown type with a Japanese name", record("unknown-identity-center-sign-in-japanese.json").userIdentity, "山田太郎 (identity type Unknown)", "山田太郎 (ID 種別 Unknown)"],
      ["a web identity user", { type: "WebIdentityUser", principalId: "accounts.google.com:1234567890", userName: "1234567890" }, "1234567890 (web identity user)", "1234567890 (ウェブ ID ユーザー)"],
      ["a SAML user", { type: "SAMLUser", principalId: "SAMLExample:user", userName: "user@example.com" }, "user@example.com (SAML user)", "user@example.com (SAML ユーザー)"],
      ["an identity with only a type", { type: "Unknown" }, "unknown Unknown (identity type Unknown)", "unknown Unknown (ID 種別 Unknown)"],
      ["an AWS service event's identity, which has no type", { accountId: "123456789012", invokedBy: "AWS Internal" }, "AWS Internal (AWS service)", "AWS Internal (AWS サービス)"],
      ["the root user without accountId (the account from the ARN)", { type: "Root", arn: "arn:aws:iam::111122223333:root", principalId: "111122223333" }, "root (root user of account 111122223333)", "root (アカウント 111122223333 のルートユーザー)"],
    ];
    for (const [title, identity, en, ja] of cases) {
      it(`describes ${title} in English and Japanese`, () => {
        expect([describePrincipal(identity, "en"), describePrincipal(identity, "ja")]).to.deep.equal([en, ja]);
      });
    }

    it("is never blank and never says undefined, whatever the identity holds (property)", () => {
      const text = fc.option(fc.string({ maxLength: 12 }), { nil: undefined });
      fc.assert(
        fc.property(
          fc.constantFrom("IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser", "AWSAccount", "IdentityCenterUser", "WebIdentityUser", "SAMLUser", "Unknown", "Other"),
          fc.record({ userName: text, arn: text, principalId: text, accountId: text, invokedBy: text }, { requiredKeys: [] }),
          fc.constantFrom("en" as const, "ja" as const),
          (type, fields, language) => {
            const line = describePrincipal({ type, ...fields }, language);
            expect(line.trim()).to.not.equal("");
            const given = JSON.stringify(fields);
            for (const placeholder of ["undefined", "null"]) {
              if (!given.includes(placeholder)) {
                expect(line).to.not.include(placeholder);
              }
            }
            // A value holding a parenthesis can meet one the format writes ("account (" + ")"): look for an empty
            // "()" only when no value holds one.
            if (!/[()]/.test(given)) {
              expect(line).to.not.include("()");
            }
            expect(identifyPrincipal({ type, ...fields }).name.trim()).to.not.equal("");
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("identifyPrincipal", () => {
    it("takes the account from the identity's ARN, or its session issuer's, when accountId is missing", () => {
      expect(identifyPrincipal({ type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" }).accountId).to.equal("111122223333");
      expect(identifyPrincipal({ type: "AssumedRole", sessionContext: { sessionIssuer: { arn: "arn:aws:iam::444455556666:role/ops" } } }).accountId).to.equal("444455556666");
      expect(identifyPrincipal({ type: "IAMUser", accountId: "123456789012", arn: "arn:aws:iam::111122223333:user/alice" }).accountId).to.equal("123456789012");
      expect(identifyPrincipal({ type: "IAMUser", arn: "arn:aws:iam::not-an-account:user/alice" }).accountId).to.equal(undefined);
    });

    it("reads an identity whose fields are of other types without throwing", () => {
      const odd = { type: "AssumedRole", arn: 42, sessionContext: "x", onBehalfOf: null } as unknown as UserIdentity;
      expect(identifyPrincipal(odd)).to.deep.equal({ kind: "assumed-role", name: "(no session name)", roleName: "unknown role" });
      expect(identifyPrincipal("alice" as unknown as UserIdentity).kind).to.equal("unknown");
    });
  });

  describe("formatEventTime, callName and accountOfArn", () => {
    it("shows an event time in the zone, an unreadable one as written on one line, and none when there is no text", () => {
      expect(formatEventTime("2023-04-25T09:47:10Z", "Asia/Tokyo")).to.equal("2023-04-25 18:47:10 +09:00");
      expect(formatEventTime("2014-03-06T21: 22: 54Z", "Asia/Tokyo")).to.equal("2014-03-06T21: 22: 54Z");
      expect(formatEventTime("yesterday\nTime: now", "Asia/Tokyo")).to.equal("yesterday Time: now");
      expect([undefined, null, 1394140974, "", " "].map((value) => formatEventTime(value, "Asia/Tokyo"))).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
    });

    it("names the call as service:EventName, and says so when a part is missing", () => {
      expect(callName({ eventSource: "ssm.amazonaws.com", eventName: "StartSession" })).to.equal("ssm:StartSession");
      expect(callName({ eventName: "StartSession" } as never)).to.equal("StartSession");
      expect(callName({ eventSource: "ssm.amazonaws.com" } as never, "en")).to.equal("ssm:(no event name)");
      expect(callName({} as never, "ja")).to.equal("(イベント名なし)");
    });

    it("reads the account of an ARN", () => {
      expect(accountOfArn("arn:aws:sts::123456789012:assumed-role/ops/s")).to.equal("123456789012");
      expect([accountOfArn("arn:aws:s3:::bucket"), accountOfArn(undefined), accountOfArn(123456789012)]).to.deep.equal([undefined, undefined, undefined]);
    });
  });

  describe("oneLine", () => {
    it("turns control characters and Unicode line separators into one space and trims", () => {
      expect(oneLine(" curl/8.0\r\nWho: root\u2028x\ty\u0000 ")).to.equal("curl/8.0 Who: root x y");
      expect(oneLine("売上報告 Q1.pdf")).to.equal("売上報告 Q1.pdf");
    });
  });

  describe("principalName", () => {
    it("is a short ASCII name for every fixture", () => {
      const names = recordFixtureNames().map((name) => principalName(record(name).userIdentity));

      expect(names).to.deep.equal([
        "ci-deployer/deploy-2024-05-14",
        "AROAEXAMPLEOTHER0001:reporting",
        "lambda.amazonaws.com",
        "hogehoge",
        "build-bot",
        "unknown user (name hidden)",
        "544894e8-80c1-707f-60e3-3ba6510dfac1",
        "root",
        "alice@example.com",
        "alice@example.com",
        "taro.yamada@example.co.jp",
        "a non-ASCII name (Unknown)",
      ]);
    });
  });

  describe("describeTarget", () => {
    it("names the resource each fixture acted on", () => {
      const targets = Object.fromEntries(recordFixtureNames().map((name) => [name, describeTarget(record(name))]));
      const ssm = fixture<{ detail: Parameters<typeof describeTarget>[0] }>("eventbridge/ssm-start-session.json").detail;

      expect(describeTarget(ssm)).to.equal("i-0123456789abcdef0");
      expect(targets).to.deep.equal({
        "assumed-role-put-role-policy.json": "roleName=app-runtime, policyName=read-config",
        "aws-account-kms-decrypt.json": "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "aws-service-assume-role.json": "arn:aws:iam::123456789012:role/app-runtime",
        "create-bucket.json": "qiita-tutorial-new-bucket (ap-northeast-1)",
        "federated-user-list-buckets.json": undefined,
        "iam-user-console-login-hidden-name.json": undefined,
        "identity-center-user-list-accounts.json": undefined,
        "root-console-login-failure.json": undefined,
        "s3-get-object.json": "bucketName=confidential-reports, key=2025/売上報告 Q1.pdf",
        "sso-create-user-access-denied.json": undefined,
        "sso-put-parameter-japanese.json": "/app/本番/データベース接続",
        "unknown-identity-center-sign-in-japanese.json": undefined,
      });
    });

    it("says us-east-1 for a bucket created without a LocationConstraint", () => {
      const created = { ...record("create-bucket.json"), requestParameters: { bucketName: "legacy-bucket", Host: "s3.amazonaws.com" } };

      expect(describeTarget(created)).to.equal("legacy-bucket (us-east-1)");
    });

    it("lists EC2 instances of a call, and at most three resources", () => {
      const base = record("aws-account-kms-decrypt.json");
      const terminate = { ...base, requestParameters: { instancesSet: { items: [{ instanceId: "i-1" }, { instanceId: "i-2" }] } }, resources: [] };
      const many = { ...base, requestParameters: null, resources: ["a", "b", "c", "d", "e"].map((n) => ({ ARN: `arn:aws:s3:::${n}` })) };

      expect(describeTarget(terminate)).to.equal("i-1, i-2");
      expect(describeTarget(many)).to.equal("arn:aws:s3:::a, arn:aws:s3:::b, arn:aws:s3:::c (+2)");
    });
  });

  describe("failureOf", () => {
    it("reads error codes, and console sign-in failures that carry none", () => {
      expect(failureOf(record("sso-create-user-access-denied.json"))?.code).to.equal("AccessDenied");
      expect(failureOf(record("root-console-login-failure.json"))).to.deep.equal({ message: "Failed authentication" });
      expect(failureOf(record("create-bucket.json"))).to.equal(undefined);
    });
  });

  describe("redactHidden", () => {
    it("drops secret fields and values CloudTrail hid, keeping the rest", () => {
      const value = {
        sessionId: "s-1",
        tokenValue: "Value hidden due to security reasons.",
        nested: { password: "p", note: "ok", list: ["HIDDEN_DUE_TO_SECURITY_REASONS", "kept"] },
        value: "HIDDEN_DUE_TO_SECURITY_REASONS",
        credentials: { sessionToken: "t" },
      };

      expect(redactHidden(value)).to.deep.equal({ sessionId: "s-1", nested: { note: "ok", list: ["kept"] } });
    });
  });
});

import { expect } from "chai";

import { fromEnvironment, toEnvironment, type DeployedDownloadThresholdSettings, type DownloadThresholdSettings } from "../../../functions/downloadThreshold/settings";
import { ALERT_TOPIC_ARN_VARIABLE, INVALID_ENVIRONMENT_ERROR } from "../../../functions/shared/environment";
import { hasErrorName } from "../../../functions/shared/runtime";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";

/** The error `action` throws, checked to be the environment reader's. */
function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    expect(hasErrorName(error, INVALID_ENVIRONMENT_ERROR), String(error)).to.equal(true);
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("download threshold settings: fromEnvironment", () => {
  const valid = {
    WATCHED_OBJECTS: JSON.stringify([{ bucket: BUCKET, key: KEY, threshold: 5 }]),
    RESET_SCHEDULE: "0 1 * * 1",
    RESET_TIME_ZONE: "Asia/Tokyo",
    NOTIFY: "every",
    COUNTER: "dynamodb",
    COUNTS_TABLE_NAME: "counts",
    ALERT_LANGUAGE: "ja",
    ALERT_TIME_ZONE: "Asia/Tokyo",
    ALERT_TOPIC_ARN: TOPIC_ARN,
  };

  it("reads every setting", () => {
    expect(fromEnvironment(valid)).to.deep.equal({
      watches: [{ bucket: BUCKET, key: KEY, threshold: 5 }],
      reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
      notify: "every",
      counter: { kind: "dynamodb", tableName: "counts" },
      topicArn: TOPIC_ARN,
      language: "ja",
      timeZone: "Asia/Tokyo",
    });
  });

  const broken: Array<[string, Record<string, string | undefined>, string | RegExp]> = [
    ["a missing table name", { COUNTS_TABLE_NAME: undefined }, "environment variable COUNTS_TABLE_NAME is not set"],
    ["watches that are not JSON", { WATCHED_OBJECTS: "[" }, /^environment variable WATCHED_OBJECTS must be JSON \(.+\), got "\["$/],
    [
      "a watch without threshold",
      { WATCHED_OBJECTS: '[{"bucket":"b","key":"k"}]' },
      'environment variable WATCHED_OBJECTS is invalid: watches[0] must be { bucket, key | keyPrefix, threshold } with a whole threshold >= 1, got {"bucket":"b","key":"k"}',
    ],
    ["a 6-field schedule", { RESET_SCHEDULE: "0 0 1 * * 1" }, "environment variable RESET_SCHEDULE must be a 5-field cron expression"],
    ["an unknown counter", { COUNTER: "redis" }, 'environment variable COUNTER must be "dynamodb" or "logs", got "redis"'],
    ["an unknown alert time zone", { ALERT_TIME_ZONE: "Tokyo" }, 'environment variable ALERT_TIME_ZONE must be an IANA time zone such as Asia/Tokyo, got "Tokyo"'],
  ];
  for (const [title, change, message] of broken) {
    it(`fails at cold start on ${title}, naming the variable`, () => {
      const env: Record<string, string | undefined> = { ...valid, ...change };
      expect(() => fromEnvironment(env)).to.throw(message);
    });
  }

  const bad: Array<[string, string | undefined]> = [
    ["WATCHED_OBJECTS", "[]"],
    ["WATCHED_OBJECTS", '[{"bucket":"b","key":"k","keyPrefix":"p","threshold":1}]'],
    ["WATCHED_OBJECTS", '[{"bucket":"b","key":"k","threshold":0}]'],
    ["RESET_SCHEDULE", "every monday"],
    ["RESET_SCHEDULE", "0 0 31 2 *"],
    ["RESET_TIME_ZONE", "Tokyo"],
    ["NOTIFY", "sometimes"],
    ["COUNTER", "redis"],
    ["ALERT_LANGUAGE", "fr"],
    ["ALERT_TIME_ZONE", "Tokyo"],
    ...Object.keys(valid).map((name): [string, undefined] => [name, undefined]),
  ];
  for (const [name, value] of bad) {
    it(`fails with ${INVALID_ENVIRONMENT_ERROR} naming ${name} when it is ${value === undefined ? "missing" : JSON.stringify(value)}`, () => {
      const error = thrown(() => fromEnvironment({ ...valid, [name]: value }));

      expect(error.message).to.match(new RegExp(`^environment variable ${name} `));
      expect((error as Error & { variable?: string }).variable).to.equal(name);
    });
  }

  it("needs the log group name, not the table name, with the logs counter", () => {
    const env = { ...valid, COUNTER: "logs", COUNTS_TABLE_NAME: undefined };

    expect(thrown(() => fromEnvironment(env)).message).to.contain("environment variable TRAIL_LOG_GROUP_NAME is not set");
    expect(fromEnvironment({ ...env, TRAIL_LOG_GROUP_NAME: "/aws/cloudtrail/trail" }).counter).to.deep.equal({ kind: "logs", logGroupName: "/aws/cloudtrail/trail" });
  });
});

describe("download threshold settings: toEnvironment", () => {
  const representative: Array<[string, DeployedDownloadThresholdSettings]> = [
    [
      "the DynamoDB counter, an exact key and a prefix, Japanese alerts",
      {
        watches: [
          { bucket: BUCKET, key: KEY, threshold: 5 },
          { bucket: BUCKET, keyPrefix: "board/", threshold: 3 },
        ],
        reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
        notify: "every",
        counter: { kind: "dynamodb", tableName: "dta-counts-1234567" },
        language: "ja",
        timeZone: "Asia/Tokyo",
      },
    ],
    [
      "the logs counter, a whole bucket, notify once, English alerts in another zone",
      {
        watches: [{ bucket: "hr-records", keyPrefix: "", threshold: 20 }],
        reset: { schedule: "0 0 1 * *", timeZone: "Europe/Berlin" },
        notify: "once",
        counter: { kind: "logs", logGroupName: "/aws/cloudtrail/trail" },
        language: "en",
        timeZone: "America/New_York",
      },
    ],
  ];
  for (const [title, deployed] of representative) {
    it(`round-trips through fromEnvironment: ${title}`, () => {
      // Prepare: the alert topic's variable is SecureCallbackFunction's to set.
      const env = toEnvironment(deployed);

      // Act
      const read: DownloadThresholdSettings = fromEnvironment({ ...env, [ALERT_TOPIC_ARN_VARIABLE]: TOPIC_ARN });

      // Assess
      expect(env).to.not.have.property(ALERT_TOPIC_ARN_VARIABLE);
      expect(read).to.deep.equal({ ...deployed, topicArn: TOPIC_ARN });
    });
  }

  it("writes each watch with its four fields only, in a fixed order", () => {
    const watch = { threshold: 2, key: KEY, bucket: BUCKET, note: "not a setting" };
    const deployed = { ...representative[0][1], watches: [watch] };

    expect(toEnvironment(deployed).WATCHED_OBJECTS).to.equal(JSON.stringify([{ bucket: BUCKET, key: KEY, threshold: 2 }]));
  });

  it("passes a value known only on deployment through as it is", () => {
    const deferred = { deferred: "table name" };

    const env = toEnvironment<typeof deferred>({ ...representative[0][1], counter: { kind: "dynamodb", tableName: deferred } });

    expect(env.COUNTS_TABLE_NAME).to.equal(deferred);
    expect(env).to.not.have.property("TRAIL_LOG_GROUP_NAME");
  });
});

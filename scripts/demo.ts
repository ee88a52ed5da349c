/**
 * `npm run demo [-- --event FILE] [--time-zone ZONE] [--chat] [--verbose]`: feeds a sample CloudTrail event through the real
 * UserActivityNotifier handler (payload decoder, criteria, formatter, AWS SDK SNS client) and prints each notification
 * as the email shows it (subject, then body), in Japanese and in English.
 *
 * SNS is a loopback fake that enforces SNS's rules on subjects and messages; nothing leaves the machine. The default
 * event is the SSM StartSession sample (`tests/fixtures/eventbridge/ssm-start-session.json`), handled with the
 * `ssm-sessions` preset. `--event` takes an EventBridge event, a CloudWatch Logs subscription payload or a bare
 * CloudTrail record (sent as EventBridge would). `--chat` also prints the Amazon Q Developer notification JSON.
 * stdout carries exactly the emails (the README shows them verbatim; tests/scripts/demo.test.ts keeps the two equal);
 * `--verbose` writes the handler's log lines and metrics to stderr.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";

import { DETAIL_TYPE_OF_EVENT_TYPE } from "../components/activityPatterns";
import type { ActivityCriteria } from "../functions/userActivity/criteria";
import { type CloudTrailRecord, cloudTrailRecordProblem, decodeCloudTrailPayload } from "../functions/shared/cloudtrailEvents";
import type { Logger, MetricSink } from "../functions/shared/runtime";
import { userActivityHandler } from "../functions/userActivity/handler";
import { runMain } from "../preview/exit";
import { FakeSns } from "../simulation/fakeSns";

const DEFAULT_EVENT = path.join(__dirname, "..", "tests", "fixtures", "eventbridge", "ssm-start-session.json");
const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:alerts";

const stderrLogger: Logger = {
  info: (message, fields) => process.stderr.write(`${JSON.stringify({ level: "INFO", message, ...fields })}\n`),
  warn: (message, fields) => process.stderr.write(`${JSON.stringify({ level: "WARN", message, ...fields })}\n`),
  error: (message, fields) => process.stderr.write(`${JSON.stringify({ level: "ERROR", message, ...fields })}\n`),
};
const stderrMetrics: MetricSink = {
  count: (name, value) => process.stderr.write(`${JSON.stringify({ metric: name, value })}\n`),
};
const quietLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const quietMetrics: MetricSink = { count: () => undefined };

/** The payload to feed and criteria that select its record. */
function load(file: string): { payload: unknown; criteria: ActivityCriteria } {
  const content = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  if (path.resolve(file) === DEFAULT_EVENT) {
    return { payload: content, criteria: { presets: ["ssm-sessions"] } };
  }
  if (cloudTrailRecordProblem(content) === undefined) {
    const record = content as CloudTrailRecord;
    const detailType = DETAIL_TYPE_OF_EVENT_TYPE[String(record.eventType)] ?? "AWS API Call via CloudTrail";
    return {
      payload: { version: "0", id: record.eventID, "detail-type": detailType, source: `aws.${record.eventSource.split(".")[0]}`, region: record.awsRegion, detail: record },
      criteria: { eventNames: [record.eventName] },
    };
  }
  // Another payload shape: select every record it holds by its event names.
  const names = [...new Set(decodeCloudTrailPayload(content).records.map((record) => record.eventName))];
  if (names.length === 0) {
    throw new Error(`${file} holds no CloudTrail record the handler can decode`);
  }
  return { payload: content, criteria: { eventNames: names } };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      event: { type: "string", default: DEFAULT_EVENT },
      "time-zone": { type: "string", default: "Asia/Tokyo" },
      chat: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const { payload, criteria } = load(values.event ?? DEFAULT_EVENT);
  // The SDK talks to the loopback fake only; its advice to upgrade Node.js (Lambda runs nodejs22.x) is no output here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const verbose = values.verbose ?? false;
  const sns = await FakeSns.start([TOPIC_ARN]);
  try {
    for (const language of ["ja", "en"] as const) {
      const first = sns.published.length;
      const handler = userActivityHandler(
        { topicArn: TOPIC_ARN, timeZone: values["time-zone"] ?? "Asia/Tokyo", language, criteria, chatNotifications: values.chat ?? false },
        { sns: sns.client(), logger: verbose ? stderrLogger : quietLogger, metrics: verbose ? stderrMetrics : quietMetrics },
      );
      await handler(payload);
      for (const message of sns.published.slice(first)) {
        process.stdout.write(`===== ${language} =====\nSubject: ${message.subject ?? ""}\n\n${bodyOf(message.message)}\n\n`);
      }
    }
  } finally {
    await sns.stop();
  }
  return 0;
}

/** With --chat the message is a MessageStructure document: show the email text, then the chat JSON. */
function bodyOf(message: string): string {
  try {
    const document = JSON.parse(message) as { default?: unknown; https?: unknown };
    if (typeof document.default === "string" && typeof document.https === "string") {
      return `${document.default}\n\n----- Amazon Q Developer (HTTPS subscribers) -----\n${JSON.stringify(JSON.parse(document.https), null, 2)}`;
    }
  } catch {
    // Not JSON: a plain text message.
  }
  return message;
}

runMain(main);

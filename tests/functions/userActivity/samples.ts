/** The SSM StartSession sample and the notifications expected for it, shared by the user activity room's tests. */
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { fixture, record } from "../../../simulation/fixtures";

export const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:alerts";
export const TOKYO_JA = { timeZone: "Asia/Tokyo", language: "ja" } as const;
export const TOKYO_EN = { timeZone: "Asia/Tokyo", language: "en" } as const;
export const ssmEvent = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json");
export const ssm = ssmEvent.detail;

export const SSM_JA = [
  "hogehoge (IAM ユーザー) が ap-northeast-1 で ssm:StartSession を実行しました。",
  "",
  "発生時刻: 2023-04-25 18:47:10 +09:00",
  "リージョン: ap-northeast-1",
  "イベント: ssm.amazonaws.com",
  "イベントネーム: StartSession",
  "ユーザネーム: hogehoge (IAM ユーザー)",
  "接続元IPアドレス: 203.0.113.10",
  "ユーザーエージェント: aws-cli/2.11.8 Python/3.11.3 Darwin/21.4.0 source/arm64 prompt/off command/ssm.start-session",
  "対象リソース: i-0123456789abcdef0",
  "アカウント: 123456789012",
  "CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678",
  "",
  "リクエストパラメータ:",
  "{",
  '  "target": "i-0123456789abcdef0"',
  "}",
].join("\n");

export const SSM_EN = [
  "hogehoge (IAM user) called ssm:StartSession in ap-northeast-1.",
  "",
  "Time: 2023-04-25 18:47:10 +09:00",
  "Region: ap-northeast-1",
  "Event source: ssm.amazonaws.com",
  "Event name: StartSession",
  "Principal: hogehoge (IAM user)",
  "Source IP address: 203.0.113.10",
  "User agent: aws-cli/2.11.8 Python/3.11.3 Darwin/21.4.0 source/arm64 prompt/off command/ssm.start-session",
  "Target resource: i-0123456789abcdef0",
  "Account: 123456789012",
  "CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678",
  "",
  "Request parameters:",
  "{",
  '  "target": "i-0123456789abcdef0"',
  "}",
].join("\n");

/** A PutRolePolicy whose policy document (with Japanese text) makes the event far larger than an SNS message. */
export function hugeEvent(): CloudTrailRecord {
  const base = record("assumed-role-put-role-policy.json");
  const statements = Array.from({ length: 2500 }, (_, i) => ({ Sid: `許可${i}`, Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::bucket-${i}/データ/*` }));
  return { ...base, requestParameters: { ...base.requestParameters, policyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } };
}

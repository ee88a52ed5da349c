import { type ConfigReader, PROJECT } from "./reader";

const SNS_TOPIC_ARN = /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/;

/** `cloudtrail-alerts:existingAlertTopicArn`: the SNS topic to adopt; empty (the default) creates one. */
export function readExistingAlertTopicArn(read: ConfigReader): string {
  return read.string(`${PROJECT}:existingAlertTopicArn`, { fallback: "", valid: (v) => v === "" || SNS_TOPIC_ARN.test(v), expectation: "an SNS topic ARN or empty" });
}

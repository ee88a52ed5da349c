/**
 * The callback the foundation's artifact test ships: it decodes either payload shape with the shared edge decoder
 * and relays each CloudTrail record to the alert topic. Like every handler of the project, it captures factories
 * from `functions/`, builds its SDK client once and reads its settings from the environment.
 */
import { SNSClient } from "@aws-sdk/client-sns";

import { cloudTrailConsoleLink, decodeCloudTrailPayload } from "../functions/shared/cloudtrailEvents";
import { ALERT_TOPIC_ARN_VARIABLE, environmentReader } from "../functions/shared/environment";
import { consoleLogger } from "../functions/shared/runtime";
import { publishAlert } from "../functions/shared/snsAlert";

/** What one invocation did. */
export interface RelayResult {
  published: number;
  rejected: number;
}

export function relayCallbackFactory(): (event: unknown) => Promise<RelayResult> {
  const topicArn = environmentReader().required(ALERT_TOPIC_ARN_VARIABLE);
  const sns = new SNSClient({});
  return async (event) => {
    const payload = decodeCloudTrailPayload(event);
    for (const rejected of payload.rejected) {
      consoleLogger.warn("input rejected", { ...rejected });
    }
    for (const record of payload.records) {
      await publishAlert(sns, topicArn, {
        subject: `[${record.awsRegion}] ${record.eventSource.split(".")[0]}:${record.eventName} by ${record.userIdentity.userName ?? record.userIdentity.type}`,
        message: `${record.eventName} at ${record.eventTime}\n${cloudTrailConsoleLink(record)}`,
      });
    }
    return { published: payload.records.length, rejected: payload.rejected.length };
  };
}

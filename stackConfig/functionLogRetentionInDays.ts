import { isLogRetention } from "../components/validation";
import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:functionLogRetentionInDays`: the retention of each function's own log group (default 30). */
export function readFunctionLogRetentionInDays(read: ConfigReader): number {
  return read.integer(`${PROJECT}:functionLogRetentionInDays`, {
    fallback: 30,
    valid: isLogRetention,
    expectation: "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, ...)",
  });
}

import { isLogRetention } from "../components/validation";
import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:trailLogRetentionInDays`: the retention of the created trail's log group (default 365). */
export function readTrailLogRetentionInDays(read: ConfigReader): number {
  return read.integer(`${PROJECT}:trailLogRetentionInDays`, {
    fallback: 365,
    valid: isLogRetention,
    expectation: "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)",
  });
}

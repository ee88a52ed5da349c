/**
 * The stack config: every key Pulumi.yaml declares (and the AWS provider's region and accounts), read once and
 * validated before any resource is created. One module per key; {@link loadStackConfig} reads them in order.
 */
import type { AlertTopicArgs, AuditTrailArgs, DownloadAlertSettingsArgs } from "../components";
import type { Language } from "../functions/shared/readableEvent";
import type { SecurityControlId } from "../functions/shared/securityControls";
import { readAlertEmails } from "./alertEmails";
import { readAllowedAccountIds } from "./allowedAccountIds";
import { type BackfillConfig, readBackfillConfig } from "./backfill";
import { readBucketCreationAlarm } from "./bucketCreationAlarm";
import { readBucketCreationEventNames } from "./bucketCreationEventNames";
import { readDownloadAlerts } from "./downloadAlerts";
import { readExistingAlertTopicArn } from "./existingAlertTopicArn";
import { readExistingTrailLogGroupName } from "./existingTrailLogGroupName";
import { readFunctionLogRetentionInDays } from "./functionLogRetentionInDays";
import { readLanguage } from "./language";
import { checkConfigKeys, pulumiConfigKeys } from "./configKeys";
import { ConfigReader, pulumiRawConfig, type RawConfig } from "./reader";
import { readRegion } from "./region";
import { readSecurityAlarms } from "./securityAlarms";
import { readTimeZone } from "./timeZone";
import { readTrailLogRetentionInDays } from "./trailLogRetentionInDays";
import { readUserActivityNotifiers, type UserActivityNotifierConfig } from "./userActivityNotifiers";

export { type BackfillConfig, readBackfillConfig } from "./backfill";
export { argsRawConfig, CONFIG_KEYS, configArgs, configText, configValue } from "./componentArgs";
export { checkConfigKeys, pulumiConfigKeys } from "./configKeys";
export { ConfigReader, firstProblemThrows, PROJECT, pulumiRawConfig, type RawConfig, type ReadOptions, StackConfigError } from "./reader";
export { partitionOf } from "./region";
export type { UserActivityNotifierConfig } from "./userActivityNotifiers";

/** Everything the stack program reads from config, validated once. */
export interface StackConfig {
  /** `aws:region`: where the stack's resources go. */
  region: string;
  /** `aws:allowedAccountIds`: the accounts the AWS provider may deploy to (empty: any). */
  allowedAccountIds: string[];
  /** IANA time zone alerts show times in. */
  timeZone: string;
  /** Language of alert bodies. */
  language: Language;
  alertTopic: AlertTopicArgs;
  trail: AuditTrailArgs;
  /** Event names counted by the bucket creation alarm; undefined when the alarm is disabled. */
  bucketCreationEventNames?: string[];
  /** Security Hub CloudWatch controls to deploy metric filters and alarms for; undefined for none. */
  securityAlarms?: "all" | SecurityControlId[];
  /** Retention of each function's own log group. */
  functionLogRetentionInDays: number;
  /**
   * Download threshold alerts (`downloadAlerts`); undefined when no object is watched. Source `logs` means the trail's
   * log group through the stack's shared LogSubscriptionDispatcher.
   */
  downloadAlerts?: DownloadAlertSettingsArgs;
  /** UserActivityNotifiers, by their stable name; empty when none are configured. */
  userActivityNotifiers: UserActivityNotifierConfig[];
  /** The organisation-wide CloudTrail backfill; undefined when disabled. */
  backfill?: BackfillConfig;
}

/**
 * Parses and validates the stack config. Throws {@link StackConfigError} on the first bad value, before any
 * resource is created. `keys` are every key the stack sets, checked for keys the AWS provider does not have.
 */
export function loadStackConfig(raw: RawConfig = pulumiRawConfig(), keys: readonly string[] = pulumiConfigKeys()): StackConfig {
  checkConfigKeys(keys);
  const read = new ConfigReader(raw);
  // Read in this order, so that of several bad values the same one is reported first.
  const region = readRegion(read);
  const allowedAccountIds = readAllowedAccountIds(read);
  const timeZone = readTimeZone(read);
  const language = readLanguage(read);
  const alertEmails = readAlertEmails(read);
  const existingTopicArn = readExistingAlertTopicArn(read);
  const existingTrailLogGroupName = readExistingTrailLogGroupName(read);
  const trailLogRetentionInDays = readTrailLogRetentionInDays(read);
  const bucketCreationAlarm = readBucketCreationAlarm(read);
  const bucketCreationEventNames = readBucketCreationEventNames(read);
  const securityAlarms = readSecurityAlarms(read);
  const functionLogRetentionInDays = readFunctionLogRetentionInDays(read);
  const downloadAlerts = readDownloadAlerts(read, { timeZone, language, functionLogRetentionInDays });
  const userActivityNotifiers = readUserActivityNotifiers(read, { timeZone, language });
  const backfill = readBackfillConfig(read, allowedAccountIds);

  return {
    region,
    allowedAccountIds,
    timeZone,
    language,
    alertTopic: existingTopicArn === "" ? { emailAddresses: alertEmails } : { existingTopicArn, emailAddresses: alertEmails },
    trail: existingTrailLogGroupName === "" ? { logRetentionInDays: trailLogRetentionInDays } : { existingLogGroupName: existingTrailLogGroupName },
    ...(bucketCreationAlarm ? { bucketCreationEventNames } : {}),
    ...(securityAlarms === undefined ? {} : { securityAlarms }),
    functionLogRetentionInDays,
    ...(downloadAlerts === undefined ? {} : { downloadAlerts }),
    userActivityNotifiers,
    ...(backfill === undefined ? {} : { backfill }),
  };
}

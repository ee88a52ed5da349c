/**
 * Handler building blocks for your own Lambda callbacks: the edge decoder for CloudTrail payloads, SNS publishing
 * within SNS's rules, and runtime helpers. Import from "cloudtrail-alerts/functions".
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

export {
  CLOUDTRAIL_DETAIL_TYPES,
  cloudTrailConsoleLink,
  cloudTrailRecordProblem,
  decodeCloudTrailPayload,
  type CloudTrailRecord,
  type DecodedPayload,
  type PayloadSource,
  type RejectedInput,
  type UserIdentity,
} from "./shared/cloudtrailEvents";
export {
  assertIsError,
  consoleLogger,
  embeddedMetricSink,
  hasErrorName,
  METRIC_NAMESPACE,
  namedError,
  REJECTED_INPUT_MESSAGE,
  REJECTED_INPUT_METRIC,
  reportRejectedInput,
  type LogFields,
  type Logger,
  type MetricSink,
} from "./shared/runtime";
export { ALERT_TOPIC_ARN_VARIABLE, environmentReader, type EnvironmentReader, INVALID_ENVIRONMENT_ERROR } from "./shared/environment";
export { fitSnsMessage, publishAlert, SNS_MESSAGE_MAX_BYTES, SNS_SUBJECT_MAX_LENGTH, snsSubject, type Alert } from "./shared/snsAlert";

/**
 * The CIS AWS Foundations monitoring controls that AWS Security Hub checks as CloudWatch.1 to CloudWatch.14, one
 * definition each: the control's ID and title, the metric filter pattern Security Hub's documentation prescribes
 * (verbatim), what a match means, what to do, and the same selection as a UserActivityNotifier preset. The
 * SecurityAlarms component deploys the patterns as metric filters with alarms (components/securityAlarms.ts); the
 * notifier offers the selections as presets (functions/userActivity/criteria.ts), so that an alarm and the readable
 * "who did what" message come from one definition. A test proves each pattern and its preset select the same records.
 *
 * Source of the patterns and titles: AWS Security Hub User Guide, "Security Hub controls for Amazon CloudWatch",
 * https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html (remediation step "Create a metric
 * filter", field "Filter pattern"). Security Hub passes a control only for the exact pattern ("Additional fields or
 * terms cannot be added"), so the strings are kept as the page writes them, spacing and unquoted values included. The
 * page's current CloudWatch.4 and CloudWatch.13 patterns add `$.eventSource` to the CIS ones (the page notes that its
 * filters "target only events coming from IAM API calls" and EC2 API calls); the others are the CIS patterns.
 */
import type { RecordPattern } from "./recordPattern";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The page the filter patterns are taken from. */
export const SECURITY_CONTROLS_SOURCE = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html";

/** CloudTrail `eventType` values of calls people make (API calls, console sign-ins and console actions). */
export const PERSON_EVENT_TYPES = ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"] as const;

/** A selection of CloudTrail records in the notifier's terms: sources, names, event types, read-only calls, fields. */
export interface EventSelection {
  /** @default - any event source */
  eventSources?: readonly string[];
  /** Exact names, or prefixes ending in `*`. @default - every event of the sources */
  eventNames?: readonly string[];
  /** CloudTrail event types; they also decide which EventBridge detail types a rule receives. */
  eventTypes: readonly string[];
  /**
   * `never`: the events are never read-only, so nothing is filtered and an EventBridge rule needs no read-only events;
   * `exclude`: keep only calls CloudTrail marks `readOnly: false`; `include`: read-only calls match too (an EventBridge
   * rule then needs all management events).
   */
  readOnly: "never" | "exclude" | "include";
  /** Further conditions on the record, in EventBridge's content-filtering syntax (exact values, prefix, suffix, ...). */
  match?: RecordPattern;
}

/** The controls' IDs, in Security Hub's order. */
export const SECURITY_CONTROL_IDS = [
  "CloudWatch.1", "CloudWatch.2", "CloudWatch.3", "CloudWatch.4", "CloudWatch.5", "CloudWatch.6", "CloudWatch.7",
  "CloudWatch.8", "CloudWatch.9", "CloudWatch.10", "CloudWatch.11", "CloudWatch.12", "CloudWatch.13", "CloudWatch.14",
] as const;

/** A control's ID, `CloudWatch.1` to `CloudWatch.14`. */
export type SecurityControlId = (typeof SECURITY_CONTROL_IDS)[number];

/** The names of the controls' notifier presets, in the controls' order. */
export const SECURITY_CONTROL_PRESET_NAMES = [
  "root-activity", "unauthorized-calls", "no-mfa-sign-in", "iam-policy-changes", "trail-changes", "console-auth-failures", "key-deletion",
  "bucket-policy-changes", "config-changes", "security-group-changes", "network-acl-changes", "network-gateway-changes", "route-table-changes", "vpc-changes",
] as const;

/** The name of a control's preset. */
export type SecurityControlPresetName = (typeof SECURITY_CONTROL_PRESET_NAMES)[number];

/** One Security Hub control: the documented metric filter and its notifier preset. */
export interface SecurityControl {
  /** Security Hub's control ID. */
  id: SecurityControlId;
  /** Security Hub's title of the control. */
  title: string;
  /** The filter pattern Security Hub's documentation prescribes, verbatim. */
  filterPattern: string;
  /** Metric name of the filter (the names CIS and AWS's remediation examples use). */
  metricName: string;
  /** What a match means. */
  meaning: string;
  /** What to do when the alarm fires. */
  whatToDo: string;
  /** The UserActivityNotifier preset that selects the same records and says who did what. */
  preset: { name: SecurityControlPresetName; selection: EventSelection };
}

/** `($.eventName=A) || ($.eventName=B) ...` as the page writes its lists. */
function eventNameAlternatives(names: readonly string[]): string {
  return names.map((name) => `($.eventName=${name})`).join(" || ");
}

const IAM_POLICY_EVENTS = [
  "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy",
  "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
] as const;
const TRAIL_EVENTS = ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"] as const;
const KEY_EVENTS = ["DisableKey", "ScheduleKeyDeletion"] as const;
const BUCKET_POLICY_EVENTS = [
  "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
] as const;
const CONFIG_EVENTS = ["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"] as const;
const SECURITY_GROUP_EVENTS = ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"] as const;
const NETWORK_ACL_EVENTS = ["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"] as const;
const GATEWAY_EVENTS = ["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"] as const;
const ROUTE_TABLE_EVENTS = ["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"] as const;
const VPC_EVENTS = [
  "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
  "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink",
] as const;

/** API calls of the named events from any source, as the patterns without `$.eventSource` select them. */
function calls(eventNames: readonly string[], eventSource?: string): EventSelection {
  return { ...(eventSource === undefined ? {} : { eventSources: [eventSource] }), eventNames, eventTypes: ["AwsApiCall"], readOnly: "never" };
}

/** The 14 controls, in Security Hub's order. */
export const SECURITY_CONTROLS: readonly SecurityControl[] = [
  {
    id: "CloudWatch.1",
    title: 'A log metric filter and alarm should exist for usage of the "root" user',
    filterPattern: '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    metricName: "RootAccountUsage",
    meaning: "Someone signed in or called an API with the root user's credentials, which can do anything in the account and cannot be limited by IAM.",
    whatToDo: "Confirm who used the root user and why. If nobody should have, rotate the root password, check its MFA device and access keys, and review what the calls changed.",
    preset: { name: "root-activity", selection: { eventTypes: PERSON_EVENT_TYPES, readOnly: "include", match: { userIdentity: { type: ["Root"], invokedBy: [{ exists: false }] } } } },
  },
  {
    id: "CloudWatch.2",
    title: "Ensure a log metric filter and alarm exist for unauthorized API calls",
    filterPattern: '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    metricName: "UnauthorizedAPICalls",
    meaning: "A call was refused for lack of permission: an application with a missing permission, or someone probing what stolen credentials can do.",
    whatToDo: "See who made the refused calls and from where. A burst from one principal or an unknown IP address suggests compromised credentials: disable them and investigate.",
    preset: { name: "unauthorized-calls", selection: { eventTypes: PERSON_EVENT_TYPES, readOnly: "include", match: { errorCode: [{ suffix: "UnauthorizedOperation" }, { prefix: "AccessDenied" }] } } },
  },
  {
    id: "CloudWatch.3",
    title: "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA",
    filterPattern: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    metricName: "ConsoleSigninWithoutMFA",
    meaning: "An IAM user signed in to the console with a password alone: one stolen password is enough to act as that user.",
    whatToDo: "Ask the user to register an MFA device, and require MFA with an IAM policy condition (aws:MultiFactorAuthPresent) or move the user to IAM Identity Center.",
    preset: {
      name: "no-mfa-sign-in",
      selection: {
        eventNames: ["ConsoleLogin"],
        eventTypes: ["AwsConsoleSignIn"],
        readOnly: "never",
        match: { additionalEventData: { MFAUsed: [{ "anything-but": "Yes" }] }, userIdentity: { type: ["IAMUser"] }, responseElements: { ConsoleLogin: ["Success"] } },
      },
    },
  },
  {
    id: "CloudWatch.4",
    title: "Ensure a log metric filter and alarm exist for IAM policy changes",
    filterPattern: `{($.eventSource=iam.amazonaws.com) && (${eventNameAlternatives(IAM_POLICY_EVENTS)})}`,
    metricName: "IAMPolicyChanges",
    meaning: "An IAM policy was created, changed, attached, detached or deleted: someone changed who may do what.",
    whatToDo: "Check that the change was planned (a deployment, a ticket). An unexpected grant of broad permissions is a common step of privilege escalation: revert it and find who made it.",
    preset: { name: "iam-policy-changes", selection: calls(IAM_POLICY_EVENTS, "iam.amazonaws.com") },
  },
  {
    id: "CloudWatch.5",
    title: "Ensure a log metric filter and alarm exist for CloudTrail configuration changes",
    filterPattern: `{${eventNameAlternatives(TRAIL_EVENTS)}}`,
    metricName: "CloudTrailChanges",
    meaning: "A trail was created, changed, deleted, started or stopped: what is recorded about this account may have changed.",
    whatToDo: "Make sure the trail still logs every Region with log file validation on. Stopping or deleting a trail is how an intruder hides: restart it and review what happened meanwhile.",
    preset: { name: "trail-changes", selection: calls(TRAIL_EVENTS) },
  },
  {
    id: "CloudWatch.6",
    title: "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures",
    filterPattern: '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    metricName: "ConsoleAuthenticationFailure",
    meaning: "A console sign-in failed on a wrong password; many in a row suggest someone guessing passwords.",
    whatToDo: "Look at the user names and source IP addresses. Repeated failures for one user: contact the user, reset the password and check that MFA is on.",
    preset: { name: "console-auth-failures", selection: { eventNames: ["ConsoleLogin"], eventTypes: ["AwsConsoleSignIn"], readOnly: "never", match: { errorMessage: ["Failed authentication"] } } },
  },
  {
    id: "CloudWatch.7",
    title: "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer managed keys",
    filterPattern: `{($.eventSource=kms.amazonaws.com) && (${eventNameAlternatives(KEY_EVENTS)})}`,
    metricName: "DisableOrDeleteCMK",
    meaning: "A customer managed KMS key was disabled or scheduled for deletion: data encrypted with it becomes unreadable, for good once the key is deleted.",
    whatToDo: "Check that the key is really unused. If not, cancel the deletion (CancelKeyDeletion) or enable the key again within the waiting period.",
    preset: { name: "key-deletion", selection: calls(KEY_EVENTS, "kms.amazonaws.com") },
  },
  {
    id: "CloudWatch.8",
    title: "Ensure a log metric filter and alarm exist for S3 bucket policy changes",
    filterPattern: `{($.eventSource=s3.amazonaws.com) && (${eventNameAlternatives(BUCKET_POLICY_EVENTS)})}`,
    metricName: "S3BucketPolicyChanges",
    meaning: "A bucket's policy, ACL, CORS, lifecycle or replication configuration changed: who can read the data, or where it goes, may have changed.",
    whatToDo: "Review the new policy or ACL for public or cross-account access, and the lifecycle and replication rules for unexpected deletion or copying.",
    preset: { name: "bucket-policy-changes", selection: calls(BUCKET_POLICY_EVENTS, "s3.amazonaws.com") },
  },
  {
    id: "CloudWatch.9",
    title: "Ensure a log metric filter and alarm exist for AWS Config configuration changes",
    filterPattern: `{($.eventSource=config.amazonaws.com) && (${eventNameAlternatives(CONFIG_EVENTS)})}`,
    metricName: "AWSConfigChanges",
    meaning: "AWS Config's recorder was stopped or changed, or its delivery channel changed or was deleted: the record of resource configurations may have a gap.",
    whatToDo: "Check that the configuration recorder is running and delivers to the expected bucket; restart it if it was stopped.",
    preset: { name: "config-changes", selection: calls(CONFIG_EVENTS, "config.amazonaws.com") },
  },
  {
    id: "CloudWatch.10",
    title: "Ensure a log metric filter and alarm exist for security group changes",
    filterPattern: `{${eventNameAlternatives(SECURITY_GROUP_EVENTS)}}`,
    metricName: "SecurityGroupChanges",
    meaning: "A security group was created, deleted or had its rules changed: traffic to or from instances may now be allowed that was not before.",
    whatToDo: "Review the rules added, especially any open to 0.0.0.0/0 or ::/0, and revert changes nobody planned.",
    preset: { name: "security-group-changes", selection: calls(SECURITY_GROUP_EVENTS) },
  },
  {
    id: "CloudWatch.11",
    title: "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)",
    filterPattern: `{${eventNameAlternatives(NETWORK_ACL_EVENTS)}}`,
    metricName: "NetworkACLChanges",
    meaning: "A network ACL or one of its entries or associations changed: the traffic allowed into or out of subnets may have changed.",
    whatToDo: "Compare the ACL's entries with what is expected, and revert changes nobody planned.",
    preset: { name: "network-acl-changes", selection: calls(NETWORK_ACL_EVENTS) },
  },
  {
    id: "CloudWatch.12",
    title: "Ensure a log metric filter and alarm exist for changes to network gateways",
    filterPattern: `{${eventNameAlternatives(GATEWAY_EVENTS)}}`,
    metricName: "NetworkGatewayChanges",
    meaning: "An internet or customer gateway was created, attached, detached or deleted: a path between a VPC and the outside may have opened or closed.",
    whatToDo: "Check that the gateway change belongs to a planned network change; an unexpected internet gateway can expose private subnets.",
    preset: { name: "network-gateway-changes", selection: calls(GATEWAY_EVENTS) },
  },
  {
    id: "CloudWatch.13",
    title: "Ensure a log metric filter and alarm exist for route table changes",
    filterPattern: `{($.eventSource=ec2.amazonaws.com) && (${eventNameAlternatives(ROUTE_TABLE_EVENTS)})}`,
    metricName: "RouteTableChanges",
    meaning: "A route or route table changed: traffic between subnets, gateways and peers may take a different path.",
    whatToDo: "Review the routes added or replaced (a default route to a new gateway or instance deserves a look) and revert changes nobody planned.",
    preset: { name: "route-table-changes", selection: calls(ROUTE_TABLE_EVENTS, "ec2.amazonaws.com") },
  },
  {
    id: "CloudWatch.14",
    title: "Ensure a log metric filter and alarm exist for VPC changes",
    filterPattern: `{${eventNameAlternatives(VPC_EVENTS)}}`,
    metricName: "VPCChanges",
    meaning: "A VPC, its attributes, a peering connection or ClassicLink changed: networks may have been joined or opened.",
    whatToDo: "Check new peering connections (which account, which CIDR) and VPC changes against planned work, and revert the rest.",
    preset: { name: "vpc-changes", selection: calls(VPC_EVENTS) },
  },
];

/**
 * The network controls (CloudWatch.10 to CloudWatch.14) as one preset: EC2's calls of any of their event names. It is
 * narrower than the five patterns only where those accept the names from a source other than EC2.
 */
export const NETWORK_CHANGES_SELECTION: EventSelection = calls([...SECURITY_GROUP_EVENTS, ...NETWORK_ACL_EVENTS, ...GATEWAY_EVENTS, ...ROUTE_TABLE_EVENTS, ...VPC_EVENTS], "ec2.amazonaws.com");

/** The control of an ID. */
export function securityControl(id: SecurityControlId): SecurityControl {
  return SECURITY_CONTROLS.find((c) => c.id === id)!;
}

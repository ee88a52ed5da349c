/**
 * Writes preview/awsApiConstraints.json: for each input the project sets on an AWS resource, the constraints AWS's own
 * API model puts on the request member that input becomes (length, pattern, enum, range), read from botocore's
 * service models (AWS's published models, the data the AWS CLI and boto3 validate against). The offline engine checks
 * every registered resource against the file (preview/apiConstraints.ts), so CI needs neither Python nor botocore.
 *
 * Run it again after the project sets a new resource type or property, or to move to newer models, and review the
 * diff:
 *
 *   npx ts-node --transpile-only scripts/makeApiConstraints.ts [--botocore DIR]
 *
 * DIR is a botocore package directory (default: the one `python3 -c "import botocore"` finds; `pip install botocore`
 * or Debian's `python3-botocore` install one). Patterns are Java regular expressions; each is translated to a
 * JavaScript one (`jsPattern`) and the script stops on a construct it cannot translate faithfully.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { gunzipSync } from "zlib";

import type { MemberConstraint } from "../preview/apiConstraints";
import { runMain } from "../preview/exit";

/** Where the table goes. */
export const OUTPUT = path.join(__dirname, "..", "preview", "awsApiConstraints.json");

/** The botocore service directory and API version of each service the project uses. */
const SERVICES: Record<string, string> = {
  chatbot: "2017-10-11",
  cloudtrail: "2013-11-01",
  cloudwatch: "2010-08-01",
  dynamodb: "2012-08-10",
  events: "2015-10-07",
  iam: "2010-05-08",
  kms: "2014-11-01",
  lambda: "2015-03-31",
  logs: "2014-03-28",
  s3: "2006-03-01",
  sns: "2010-03-31",
  sqs: "2012-11-05",
  stepfunctions: "2016-11-23",
};

/**
 * Pulumi resource type -> input path -> `<service> <Shape>.<Member>...`, the request member the provider sends the
 * input as. Input paths: `a.b` a nested field, `a[]` each item of a list, `a{key}` / `a{value}` each key / value of
 * a map. Member paths: the operation's input shape, then members; `[]` a list's items, `{key}` / `{value}` a map's.
 * A bare shape name (`<service> shape:<Name>`) stands for a member whose own shape is wider than what creating the
 * resource accepts (noted where used).
 */
const MEMBERS: Record<string, Record<string, string>> = {
  "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration": {
    configurationName: "chatbot CreateSlackChannelConfigurationRequest.ConfigurationName",
    iamRoleArn: "chatbot CreateSlackChannelConfigurationRequest.IamRoleArn",
    slackTeamId: "chatbot CreateSlackChannelConfigurationRequest.SlackTeamId",
    slackChannelId: "chatbot CreateSlackChannelConfigurationRequest.SlackChannelId",
    "snsTopicArns[]": "chatbot CreateSlackChannelConfigurationRequest.SnsTopicArns[]",
    "guardrailPolicyArns[]": "chatbot CreateSlackChannelConfigurationRequest.GuardrailPolicyArns[]",
    loggingLevel: "chatbot CreateSlackChannelConfigurationRequest.LoggingLevel",
    userAuthorizationRequired: "chatbot CreateSlackChannelConfigurationRequest.UserAuthorizationRequired",
  },
  "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration": {
    configurationName: "chatbot CreateTeamsChannelConfigurationRequest.ConfigurationName",
    iamRoleArn: "chatbot CreateTeamsChannelConfigurationRequest.IamRoleArn",
    teamId: "chatbot CreateTeamsChannelConfigurationRequest.TeamId",
    channelId: "chatbot CreateTeamsChannelConfigurationRequest.ChannelId",
    tenantId: "chatbot CreateTeamsChannelConfigurationRequest.TenantId",
    "snsTopicArns[]": "chatbot CreateTeamsChannelConfigurationRequest.SnsTopicArns[]",
    "guardrailPolicyArns[]": "chatbot CreateTeamsChannelConfigurationRequest.GuardrailPolicyArns[]",
    loggingLevel: "chatbot CreateTeamsChannelConfigurationRequest.LoggingLevel",
    userAuthorizationRequired: "chatbot CreateTeamsChannelConfigurationRequest.UserAuthorizationRequired",
  },
  "aws:cloudtrail/trail:Trail": {
    name: "cloudtrail CreateTrailRequest.Name",
    s3BucketName: "cloudtrail CreateTrailRequest.S3BucketName",
    s3KeyPrefix: "cloudtrail CreateTrailRequest.S3KeyPrefix",
    cloudWatchLogsGroupArn: "cloudtrail CreateTrailRequest.CloudWatchLogsLogGroupArn",
    cloudWatchLogsRoleArn: "cloudtrail CreateTrailRequest.CloudWatchLogsRoleArn",
    kmsKeyId: "cloudtrail CreateTrailRequest.KmsKeyId",
    includeGlobalServiceEvents: "cloudtrail CreateTrailRequest.IncludeGlobalServiceEvents",
    isMultiRegionTrail: "cloudtrail CreateTrailRequest.IsMultiRegionTrail",
    isOrganizationTrail: "cloudtrail CreateTrailRequest.IsOrganizationTrail",
    enableLogFileValidation: "cloudtrail CreateTrailRequest.EnableLogFileValidation",
    advancedEventSelectors: "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors",
    "advancedEventSelectors[].name": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].Name",
    "advancedEventSelectors[].fieldSelectors": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors",
    "advancedEventSelectors[].fieldSelectors[].field": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].Field",
    "advancedEventSelectors[].fieldSelectors[].equals": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].Equals",
    "advancedEventSelectors[].fieldSelectors[].equals[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].Equals[]",
    "advancedEventSelectors[].fieldSelectors[].notEquals": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotEquals",
    "advancedEventSelectors[].fieldSelectors[].notEquals[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotEquals[]",
    "advancedEventSelectors[].fieldSelectors[].startsWiths": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].StartsWith",
    "advancedEventSelectors[].fieldSelectors[].startsWiths[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].StartsWith[]",
    "advancedEventSelectors[].fieldSelectors[].notStartsWiths": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotStartsWith",
    "advancedEventSelectors[].fieldSelectors[].notStartsWiths[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotStartsWith[]",
    "advancedEventSelectors[].fieldSelectors[].endsWiths": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].EndsWith",
    "advancedEventSelectors[].fieldSelectors[].endsWiths[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].EndsWith[]",
    "advancedEventSelectors[].fieldSelectors[].notEndsWiths": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotEndsWith",
    "advancedEventSelectors[].fieldSelectors[].notEndsWiths[]": "cloudtrail PutEventSelectorsRequest.AdvancedEventSelectors[].FieldSelectors[].NotEndsWith[]",
  },
  "aws:cloudwatch/eventRule:EventRule": {
    name: "events PutRuleRequest.Name",
    description: "events PutRuleRequest.Description",
    eventPattern: "events PutRuleRequest.EventPattern",
    scheduleExpression: "events PutRuleRequest.ScheduleExpression",
    state: "events PutRuleRequest.State",
    roleArn: "events PutRuleRequest.RoleArn",
    eventBusName: "events PutRuleRequest.EventBusName",
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    rule: "events PutTargetsRequest.Rule",
    eventBusName: "events PutTargetsRequest.EventBusName",
    targetId: "events PutTargetsRequest.Targets[].Id",
    arn: "events PutTargetsRequest.Targets[].Arn",
    roleArn: "events PutTargetsRequest.Targets[].RoleArn",
    input: "events PutTargetsRequest.Targets[].Input",
    inputPath: "events PutTargetsRequest.Targets[].InputPath",
    "deadLetterConfig.arn": "events PutTargetsRequest.Targets[].DeadLetterConfig.Arn",
    "retryPolicy.maximumRetryAttempts": "events PutTargetsRequest.Targets[].RetryPolicy.MaximumRetryAttempts",
    "retryPolicy.maximumEventAgeInSeconds": "events PutTargetsRequest.Targets[].RetryPolicy.MaximumEventAgeInSeconds",
    "inputTransformer.inputTemplate": "events PutTargetsRequest.Targets[].InputTransformer.InputTemplate",
    "inputTransformer.inputPaths": "events PutTargetsRequest.Targets[].InputTransformer.InputPathsMap",
    "inputTransformer.inputPaths{key}": "events PutTargetsRequest.Targets[].InputTransformer.InputPathsMap{key}",
    "inputTransformer.inputPaths{value}": "events PutTargetsRequest.Targets[].InputTransformer.InputPathsMap{value}",
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    dashboardName: "cloudwatch PutDashboardInput.DashboardName",
    dashboardBody: "cloudwatch PutDashboardInput.DashboardBody",
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    name: "logs CreateLogGroupRequest.logGroupName",
    kmsKeyId: "logs CreateLogGroupRequest.kmsKeyId",
    logGroupClass: "logs CreateLogGroupRequest.logGroupClass",
    retentionInDays: "logs PutRetentionPolicyRequest.retentionInDays",
  },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
    name: "logs PutMetricFilterRequest.filterName",
    logGroupName: "logs PutMetricFilterRequest.logGroupName",
    pattern: "logs PutMetricFilterRequest.filterPattern",
    "metricTransformation.name": "logs PutMetricFilterRequest.metricTransformations[].metricName",
    "metricTransformation.namespace": "logs PutMetricFilterRequest.metricTransformations[].metricNamespace",
    "metricTransformation.value": "logs PutMetricFilterRequest.metricTransformations[].metricValue",
    "metricTransformation.defaultValue": "logs PutMetricFilterRequest.metricTransformations[].defaultValue",
    "metricTransformation.unit": "logs PutMetricFilterRequest.metricTransformations[].unit",
    "metricTransformation.dimensions{key}": "logs PutMetricFilterRequest.metricTransformations[].dimensions{key}",
    "metricTransformation.dimensions{value}": "logs PutMetricFilterRequest.metricTransformations[].dimensions{value}",
  },
  "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": {
    name: "logs PutSubscriptionFilterRequest.filterName",
    logGroup: "logs PutSubscriptionFilterRequest.logGroupName",
    filterPattern: "logs PutSubscriptionFilterRequest.filterPattern",
    destinationArn: "logs PutSubscriptionFilterRequest.destinationArn",
    roleArn: "logs PutSubscriptionFilterRequest.roleArn",
    distribution: "logs PutSubscriptionFilterRequest.distribution",
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    name: "cloudwatch PutMetricAlarmInput.AlarmName",
    alarmDescription: "cloudwatch PutMetricAlarmInput.AlarmDescription",
    actionsEnabled: "cloudwatch PutMetricAlarmInput.ActionsEnabled",
    alarmActions: "cloudwatch PutMetricAlarmInput.AlarmActions",
    "alarmActions[]": "cloudwatch PutMetricAlarmInput.AlarmActions[]",
    okActions: "cloudwatch PutMetricAlarmInput.OKActions",
    "okActions[]": "cloudwatch PutMetricAlarmInput.OKActions[]",
    insufficientDataActions: "cloudwatch PutMetricAlarmInput.InsufficientDataActions",
    "insufficientDataActions[]": "cloudwatch PutMetricAlarmInput.InsufficientDataActions[]",
    metricName: "cloudwatch PutMetricAlarmInput.MetricName",
    namespace: "cloudwatch PutMetricAlarmInput.Namespace",
    statistic: "cloudwatch PutMetricAlarmInput.Statistic",
    extendedStatistic: "cloudwatch PutMetricAlarmInput.ExtendedStatistic",
    dimensions: "cloudwatch PutMetricAlarmInput.Dimensions",
    "dimensions{key}": "cloudwatch PutMetricAlarmInput.Dimensions[].Name",
    "dimensions{value}": "cloudwatch PutMetricAlarmInput.Dimensions[].Value",
    period: "cloudwatch PutMetricAlarmInput.Period",
    unit: "cloudwatch PutMetricAlarmInput.Unit",
    evaluationPeriods: "cloudwatch PutMetricAlarmInput.EvaluationPeriods",
    datapointsToAlarm: "cloudwatch PutMetricAlarmInput.DatapointsToAlarm",
    threshold: "cloudwatch PutMetricAlarmInput.Threshold",
    comparisonOperator: "cloudwatch PutMetricAlarmInput.ComparisonOperator",
    treatMissingData: "cloudwatch PutMetricAlarmInput.TreatMissingData",
  },
  "aws:dynamodb/table:Table": {
    // CreateTableInput.TableName accepts a table ARN too (1-1024 characters); a new table's name is a TableName.
    name: "dynamodb shape:TableName",
    billingMode: "dynamodb CreateTableInput.BillingMode",
    hashKey: "dynamodb CreateTableInput.KeySchema[].AttributeName",
    rangeKey: "dynamodb CreateTableInput.KeySchema[].AttributeName",
    attributes: "dynamodb CreateTableInput.AttributeDefinitions",
    "attributes[].name": "dynamodb CreateTableInput.AttributeDefinitions[].AttributeName",
    "attributes[].type": "dynamodb CreateTableInput.AttributeDefinitions[].AttributeType",
    "serverSideEncryption.enabled": "dynamodb CreateTableInput.SSESpecification.Enabled",
    "serverSideEncryption.kmsKeyArn": "dynamodb CreateTableInput.SSESpecification.KMSMasterKeyId",
    tableClass: "dynamodb CreateTableInput.TableClass",
    deletionProtectionEnabled: "dynamodb CreateTableInput.DeletionProtectionEnabled",
    "ttl.attributeName": "dynamodb UpdateTimeToLiveInput.TimeToLiveSpecification.AttributeName",
    "ttl.enabled": "dynamodb UpdateTimeToLiveInput.TimeToLiveSpecification.Enabled",
  },
  "aws:iam/role:Role": {
    name: "iam CreateRoleRequest.RoleName",
    path: "iam CreateRoleRequest.Path",
    description: "iam CreateRoleRequest.Description",
    assumeRolePolicy: "iam CreateRoleRequest.AssumeRolePolicyDocument",
    maxSessionDuration: "iam CreateRoleRequest.MaxSessionDuration",
    permissionsBoundary: "iam CreateRoleRequest.PermissionsBoundary",
  },
  "aws:iam/rolePolicy:RolePolicy": {
    name: "iam PutRolePolicyRequest.PolicyName",
    role: "iam PutRolePolicyRequest.RoleName",
    policy: "iam PutRolePolicyRequest.PolicyDocument",
  },
  "aws:kms/key:Key": {
    description: "kms CreateKeyRequest.Description",
    policy: "kms CreateKeyRequest.Policy",
    keyUsage: "kms CreateKeyRequest.KeyUsage",
    customerMasterKeySpec: "kms CreateKeyRequest.KeySpec",
    multiRegion: "kms CreateKeyRequest.MultiRegion",
    rotationPeriodInDays: "kms EnableKeyRotationRequest.RotationPeriodInDays",
    deletionWindowInDays: "kms ScheduleKeyDeletionRequest.PendingWindowInDays",
  },
  "aws:lambda/function:Function": {
    name: "lambda CreateFunctionRequest.FunctionName",
    description: "lambda CreateFunctionRequest.Description",
    role: "lambda CreateFunctionRequest.Role",
    runtime: "lambda CreateFunctionRequest.Runtime",
    handler: "lambda CreateFunctionRequest.Handler",
    timeout: "lambda CreateFunctionRequest.Timeout",
    memorySize: "lambda CreateFunctionRequest.MemorySize",
    architectures: "lambda CreateFunctionRequest.Architectures",
    "architectures[]": "lambda CreateFunctionRequest.Architectures[]",
    "environment.variables{key}": "lambda CreateFunctionRequest.Environment.Variables{key}",
    "loggingConfig.logFormat": "lambda CreateFunctionRequest.LoggingConfig.LogFormat",
    "loggingConfig.applicationLogLevel": "lambda CreateFunctionRequest.LoggingConfig.ApplicationLogLevel",
    "loggingConfig.systemLogLevel": "lambda CreateFunctionRequest.LoggingConfig.SystemLogLevel",
    "loggingConfig.logGroup": "lambda CreateFunctionRequest.LoggingConfig.LogGroup",
    "tags{key}": "lambda CreateFunctionRequest.Tags{key}",
    "tags{value}": "lambda CreateFunctionRequest.Tags{value}",
    kmsKeyArn: "lambda CreateFunctionRequest.KMSKeyArn",
    "deadLetterConfig.targetArn": "lambda CreateFunctionRequest.DeadLetterConfig.TargetArn",
    "tracingConfig.mode": "lambda CreateFunctionRequest.TracingConfig.Mode",
    "ephemeralStorage.size": "lambda CreateFunctionRequest.EphemeralStorage.Size",
    reservedConcurrentExecutions: "lambda PutFunctionConcurrencyRequest.ReservedConcurrentExecutions",
  },
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
    functionName: "lambda PutFunctionEventInvokeConfigRequest.FunctionName",
    qualifier: "lambda PutFunctionEventInvokeConfigRequest.Qualifier",
    maximumRetryAttempts: "lambda PutFunctionEventInvokeConfigRequest.MaximumRetryAttempts",
    maximumEventAgeInSeconds: "lambda PutFunctionEventInvokeConfigRequest.MaximumEventAgeInSeconds",
    "destinationConfig.onFailure.destination": "lambda PutFunctionEventInvokeConfigRequest.DestinationConfig.OnFailure.Destination",
    "destinationConfig.onSuccess.destination": "lambda PutFunctionEventInvokeConfigRequest.DestinationConfig.OnSuccess.Destination",
  },
  "aws:lambda/permission:Permission": {
    function: "lambda AddPermissionRequest.FunctionName",
    statementId: "lambda AddPermissionRequest.StatementId",
    action: "lambda AddPermissionRequest.Action",
    principal: "lambda AddPermissionRequest.Principal",
    sourceArn: "lambda AddPermissionRequest.SourceArn",
    sourceAccount: "lambda AddPermissionRequest.SourceAccount",
    principalOrgId: "lambda AddPermissionRequest.PrincipalOrgID",
    qualifier: "lambda AddPermissionRequest.Qualifier",
  },
  "aws:s3/bucket:Bucket": {
    bucket: "s3 CreateBucketRequest.Bucket",
    objectLockEnabled: "s3 CreateBucketRequest.ObjectLockEnabledForBucket",
  },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    bucket: "s3 PutBucketOwnershipControlsRequest.Bucket",
    "rule.objectOwnership": "s3 PutBucketOwnershipControlsRequest.OwnershipControls.Rules[].ObjectOwnership",
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    bucket: "s3 PutBucketPolicyRequest.Bucket",
    policy: "s3 PutBucketPolicyRequest.Policy",
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    bucket: "s3 PutPublicAccessBlockRequest.Bucket",
    blockPublicAcls: "s3 PutPublicAccessBlockRequest.PublicAccessBlockConfiguration.BlockPublicAcls",
    blockPublicPolicy: "s3 PutPublicAccessBlockRequest.PublicAccessBlockConfiguration.BlockPublicPolicy",
    ignorePublicAcls: "s3 PutPublicAccessBlockRequest.PublicAccessBlockConfiguration.IgnorePublicAcls",
    restrictPublicBuckets: "s3 PutPublicAccessBlockRequest.PublicAccessBlockConfiguration.RestrictPublicBuckets",
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    bucket: "s3 PutBucketEncryptionRequest.Bucket",
    "rules[].applyServerSideEncryptionByDefault.sseAlgorithm": "s3 PutBucketEncryptionRequest.ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm",
    "rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId": "s3 PutBucketEncryptionRequest.ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.KMSMasterKeyID",
    "rules[].bucketKeyEnabled": "s3 PutBucketEncryptionRequest.ServerSideEncryptionConfiguration.Rules[].BucketKeyEnabled",
  },
  "aws:s3/bucketVersioning:BucketVersioning": {
    bucket: "s3 PutBucketVersioningRequest.Bucket",
    "versioningConfiguration.status": "s3 PutBucketVersioningRequest.VersioningConfiguration.Status",
    "versioningConfiguration.mfaDelete": "s3 PutBucketVersioningRequest.VersioningConfiguration.MFADelete",
  },
  "aws:sfn/stateMachine:StateMachine": {
    name: "stepfunctions CreateStateMachineInput.name",
    definition: "stepfunctions CreateStateMachineInput.definition",
    roleArn: "stepfunctions CreateStateMachineInput.roleArn",
    type: "stepfunctions CreateStateMachineInput.type",
    "loggingConfiguration.level": "stepfunctions CreateStateMachineInput.loggingConfiguration.level",
    publish: "stepfunctions CreateStateMachineInput.publish",
  },
  "aws:sns/topic:Topic": {
    name: "sns CreateTopicInput.Name",
    displayName: "sns CreateTopicInput.Attributes{value}",
    kmsMasterKeyId: "sns CreateTopicInput.Attributes{value}",
    policy: "sns CreateTopicInput.Attributes{value}",
  },
  "aws:sns/topicPolicy:TopicPolicy": {
    arn: "sns SetTopicAttributesInput.TopicArn",
    policy: "sns SetTopicAttributesInput.AttributeValue",
  },
  "aws:sns/topicSubscription:TopicSubscription": {
    topic: "sns SubscribeInput.TopicArn",
    protocol: "sns SubscribeInput.Protocol",
    endpoint: "sns SubscribeInput.Endpoint",
    filterPolicy: "sns SubscribeInput.Attributes{value}",
    filterPolicyScope: "sns SubscribeInput.Attributes{value}",
    rawMessageDelivery: "sns SubscribeInput.Attributes{value}",
  },
  "aws:sqs/queue:Queue": {
    name: "sqs CreateQueueRequest.QueueName",
    messageRetentionSeconds: "sqs CreateQueueRequest.Attributes{value}",
    visibilityTimeoutSeconds: "sqs CreateQueueRequest.Attributes{value}",
    sqsManagedSseEnabled: "sqs CreateQueueRequest.Attributes{value}",
    kmsMasterKeyId: "sqs CreateQueueRequest.Attributes{value}",
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    queueUrl: "sqs SetQueueAttributesRequest.QueueUrl",
    policy: "sqs SetQueueAttributesRequest.Attributes{value}",
  },
};

/** Inputs that are no request member of AWS's API: Pulumi's own settings, or payloads the model does not describe. */
const NOT_API_MEMBERS: Record<string, Record<string, string>> = {
  "*": { region: "Pulumi's per-resource region: which regional endpoint the provider calls" },
  "aws:lambda/function:Function": {
    code: "the deployment package (an asset archive; the provider uploads it as CreateFunctionRequest.Code.ZipFile)",
    "environment.variables{value}": "environment variable values: the model sets no constraint on them",
  },
  "aws:kms/key:Key": { enableKeyRotation: "whether the provider calls EnableKeyRotation, which takes only the key ID" },
  "aws:s3/bucket:Bucket": { forceDestroy: "Pulumi's own setting: empty the bucket before deleting it" },
};

/**
 * Values the provider takes for an input and does not send as they are (so AWS's constraint does not apply to them),
 * as the provider documents them.
 */
const PROVIDER_VALUES: Record<string, Record<string, Array<string | number>>> = {
  // 0: never expire; the provider then sends no PutRetentionPolicy.
  "aws:cloudwatch/logGroup:LogGroup": { retentionInDays: [0] },
  // -1: no reserved concurrency; the provider then calls DeleteFunctionConcurrency.
  "aws:lambda/function:Function": { reservedConcurrentExecutions: [-1] },
  // Disabled: an unversioned bucket, only on creation or import; the provider sends nothing.
  "aws:s3/bucketVersioning:BucketVersioning": { "versioningConfiguration.status": ["Disabled"] },
};

/** A constraint as the table stores it (preview/apiConstraints.ts reads it). */
type Constraint = MemberConstraint;

interface Shape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  documentation?: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
}

interface Model {
  operations: Record<string, { input?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

function readModel(botocore: string, service: string): Model {
  const directory = path.join(botocore, "data", service, SERVICES[service]);
  const plain = path.join(directory, "service-2.json");
  const text = fs.existsSync(plain) ? fs.readFileSync(plain, "utf8") : gunzipSync(fs.readFileSync(`${plain}.gz`)).toString("utf8");
  return JSON.parse(text) as Model;
}

/** The shape a member path leads to: `CreateRoleRequest.Description`, `Targets[].RetryPolicy.MaximumRetryAttempts`. */
function resolve(model: Model, memberPath: string): { name: string; shape: Shape } {
  if (memberPath.startsWith("shape:")) {
    const name = memberPath.slice("shape:".length);
    return { name, shape: shapeOf(model, name) };
  }
  const [input, ...members] = memberPath.split(".");
  let name = input;
  let shape = shapeOf(model, name);
  for (const segment of members) {
    const [, member, suffix = ""] = /^([^[{]+)((?:\[\]|\{key\}|\{value\})*)$/.exec(segment) ?? [];
    const target = shape.members?.[member ?? ""];
    if (target === undefined) {
      throw new Error(`${memberPath}: ${name} has no member ${member}`);
    }
    name = target.shape;
    shape = shapeOf(model, name);
    for (const step of suffix.match(/\[\]|\{key\}|\{value\}/g) ?? []) {
      const next = step === "[]" ? shape.member : step === "{key}" ? shape.key : shape.value;
      if (next === undefined) {
        throw new Error(`${memberPath}: ${name} is a ${shape.type}, not ${step === "[]" ? "a list" : "a map"}`);
      }
      name = next.shape;
      shape = shapeOf(model, name);
    }
  }
  return { name, shape };
}

function shapeOf(model: Model, name: string): Shape {
  const shape = model.shapes[name];
  if (shape === undefined) {
    throw new Error(`the model has no shape ${name}`);
  }
  return shape;
}

/** An integer shape whose documentation lists its values (`Possible values are: 1, 3, 5, and 3653.`). */
function documentedValues(shape: Shape): number[] | undefined {
  const listed = /Possible values are: ([\d, and]+)\./.exec((shape.documentation ?? "").replace(/<[^>]+>/g, ""))?.[1];
  return listed === undefined || (shape.type !== "integer" && shape.type !== "long") ? undefined : listed.split(/,\s*(?:and\s+)?|\s+and\s+/).map(Number);
}

/** POSIX and Java classes of java.util.regex (ASCII unless UNICODE_CHARACTER_CLASS is set, which AWS does not). */
const JAVA_CLASSES: Record<string, string> = {
  Lower: "a-z",
  Upper: "A-Z",
  ASCII: "\\x00-\\x7F",
  Alpha: "a-zA-Z",
  Digit: "0-9",
  Alnum: "a-zA-Z0-9",
  Punct: "!-\\/:-@\\[-`{-~",
  Graph: "!-~",
  Print: " -~",
  Blank: " \\t",
  Cntrl: "\\x00-\\x1F\\x7F",
  XDigit: "0-9a-fA-F",
  Space: " \\t\\n\\x0B\\f\\r",
};
/** Unicode categories JavaScript's `u` flag knows under the same name. */
const UNICODE_CATEGORIES = /^(L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Co|Cn)$/;
/** Characters JavaScript's `u` flag lets a backslash escape; Java escapes any non-alphanumeric one. */
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/-".split(""));

/**
 * Translates a Java regular expression (java.util.regex, as AWS validates with) to a JavaScript one for the `u`
 * flag: `\uXXXX` and `\xXX` stay; Java's `\s` (ASCII whitespace only), POSIX classes and `.` (which also stops at
 * U+0085) become explicit classes;
 * needless escapes are dropped. Throws on anything else Java-only (possessive quantifiers, atomic groups, inline
 * flags, class intersections), so that no pattern is checked differently from how AWS checks it.
 */
export function javaToJsPattern(java: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < java.length; i++) {
    const c = java[i];
    if (c === "\\") {
      const next = java[i + 1] ?? "";
      i++;
      if (next === "p" || next === "P") {
        const name = /^\{(\w+)\}/.exec(java.slice(i + 1))?.[1] ?? "";
        i += name.length + 2;
        const posix = JAVA_CLASSES[name.replace(/^Is/, "")];
        if (posix !== undefined) {
          out += inClass ? (next === "P" ? fail(java, `\\P{${name}} inside a class`) : posix) : `[${next === "P" ? "^" : ""}${posix}]`;
        } else if (UNICODE_CATEGORIES.test(name)) {
          out += `\\${next}{${name}}`;
        } else {
          fail(java, `\\${next}{${name}}`);
        }
      } else if (next === "s" || next === "S") {
        const space = JAVA_CLASSES.Space;
        out += inClass ? (next === "S" ? fail(java, "\\S inside a class") : space) : `[${next === "S" ? "^" : ""}${space}]`;
      } else if (next === "u") {
        out += `\\u${java.slice(i + 1, i + 5)}`;
        i += 4;
      } else if ("dDwWbBtnrfx0123456789".includes(next)) {
        out += `\\${next}`;
      } else if (/[A-Za-z]/.test(next)) {
        fail(java, `\\${next}`);
      } else {
        out += JS_SYNTAX.has(next) ? `\\${next}` : next;
      }
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      if (c === "[" || (c === "&" && java[i + 1] === "&")) fail(java, "a nested class or class intersection");
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (java[i + 1] === "^") {
        out += "^";
        i++;
      }
      // A `]` right after `[` or `[^` is a literal in Java.
      if (java[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if ((c === "+" || c === "*" || c === "?" || c === "}") && java[i + 1] === "+") {
      fail(java, "a possessive quantifier");
    }
    if (c === ".") {
      out += "[^\\n\\r\\u0085\\u2028\\u2029]";
      continue;
    }
    if (c === "(" && java[i + 1] === "?" && !["<=", "<!", "=", "!", ":"].some((look) => java.startsWith(look, i + 2))) {
      fail(java, "an inline flag, atomic group or named group");
    }
    out += c;
  }
  if (inClass) fail(java, "an unterminated class");
  new RegExp(out, "u");
  return out;
}

function fail(pattern: string, construct: string): never {
  throw new Error(`cannot translate ${construct} in the Java pattern ${JSON.stringify(pattern)}`);
}

/** The constraint of one member, with the model's own words. */
function constraintOf(model: Model, service: string, memberPath: string): Constraint {
  const { name, shape } = resolve(model, memberPath);
  const constraint: Constraint = { member: `${service} ${memberPath}`, shape: name, type: shape.type };
  if (shape.min !== undefined) constraint.min = shape.min;
  if (shape.max !== undefined) constraint.max = shape.max;
  if (shape.pattern !== undefined) {
    constraint.pattern = shape.pattern;
    constraint.jsPattern = javaToJsPattern(shape.pattern);
  }
  if (shape.enum !== undefined) {
    constraint.enum = shape.enum;
  } else {
    const documented = documentedValues(shape);
    if (documented !== undefined) {
      constraint.enum = documented;
      constraint.enumSource = "documentation";
    }
  }
  return constraint;
}

/** The botocore package directory and its version. */
function findBotocore(given: string | undefined): { directory: string; version: string } {
  const directory =
    given ??
    execFileSync("python3", ["-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"], { encoding: "utf8" }).trim();
  const version = /__version__ = '([^']+)'/.exec(fs.readFileSync(path.join(directory, "__init__.py"), "utf8"))?.[1];
  if (version === undefined) {
    throw new Error(`${directory} is not a botocore package (no __version__ in __init__.py)`);
  }
  return { directory, version };
}

/** Builds the table from the models in `botocore`. */
export function buildTable(botocore: string, version: string): Record<string, unknown> {
  const models = new Map<string, Model>();
  const model = (service: string): Model => {
    if (!models.has(service)) {
      if (SERVICES[service] === undefined) throw new Error(`no API version chosen for service ${service}`);
      models.set(service, readModel(botocore, service));
    }
    return models.get(service) as Model;
  };
  const resources: Record<string, Record<string, Constraint>> = {};
  for (const [type, members] of Object.entries(MEMBERS).sort(([a], [b]) => a.localeCompare(b))) {
    resources[type] = {};
    for (const [property, target] of Object.entries(members)) {
      const [service, memberPath] = target.split(" ");
      const constraint = constraintOf(model(service), service, memberPath);
      const providerValues = PROVIDER_VALUES[type]?.[property];
      resources[type][property] = providerValues === undefined ? constraint : { ...constraint, providerValues };
    }
  }
  return {
    description:
      "AWS API constraints on the inputs the project sets, from botocore's service models. Generated by scripts/makeApiConstraints.ts; do not edit.",
    botocore: version,
    models: Object.fromEntries([...models.keys()].sort().map((service) => [service, SERVICES[service]])),
    resources,
    notApiMembers: NOT_API_MEMBERS,
  };
}

function main(): number {
  const { values } = parseArgs({ options: { botocore: { type: "string" } }, strict: true });
  const { directory, version } = findBotocore(values.botocore);
  const table = buildTable(directory, version);
  // One line per input, so that a new model's diff reads input by input.
  const oneLine = new Map<string, string>();
  const text = JSON.stringify(table, (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && "member" in value) {
      const token = `@constraint-${oneLine.size}@`;
      oneLine.set(`"${token}"`, JSON.stringify(value));
      return token;
    }
    return value;
  }, 2).replace(/"@constraint-\d+@"/g, (token) => oneLine.get(token) ?? token);
  fs.writeFileSync(OUTPUT, `${text}\n`);
  process.stdout.write(`${path.relative(process.cwd(), OUTPUT)}: botocore ${version}, ${Object.keys(table.resources as object).length} resource types\n`);
  return 0;
}

if (require.main === module) {
  runMain(main);
}

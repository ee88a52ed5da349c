/**
 * Property tests: CloudTrail records generated from the documented record contents
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html and the
 * userIdentity element, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
 * any field missing or oddly typed (null, a number for a string, a list for an object, very long text, any Unicode,
 * a lone surrogate), through the formatter and every handler, with the properties the AWS documentation corpus is held
 * to (see simulation/recordGauntlet.ts).
 */
import { expect } from "chai";
import fc from "fast-check";

import type { Language } from "../../functions/shared/readableEvent";
import { criteriaSelecting, formattingProblems, type GauntletRecord, RecordGauntlet } from "../../simulation/recordGauntlet";

/** Marks a field left out of the record. */
const MISSING = Symbol("missing");

/** A field's value: as documented (most often), oddly typed, or missing. */
function slot(documented: fc.Arbitrary<unknown>, weights: { documented?: number; odd?: number; missing?: number } = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: weights.documented ?? 8, arbitrary: documented },
    { weight: weights.odd ?? 1, arbitrary: oddValue() },
    { weight: weights.missing ?? 2, arbitrary: fc.constant(MISSING) },
  );
}

/** Text of every kind: ASCII, any Unicode, long (past the chat notification's cuts), blank, hidden by CloudTrail, with line breaks. */
function anyText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("a", "日", "🦊", "\u202e", " "), fc.integer({ min: 300, max: 4000 })).map(([c, n]) => c.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "HIDDEN_DUE_TO_SECURITY_REASONS", "line\nbreak", "tab\there", "\u2028", "-") },
  );
}

/**
 * Text, now and then near the largest record CloudTrail delivers (256 KB through EventBridge or CloudWatch Logs), for
 * the fields an alert shows whole: kept to a few fields, as each such record costs a tenth of a second to render.
 */
function anyTextOrHuge(): fc.Arbitrary<string> {
  const huge = fc.tuple(fc.constantFrom("a", "日", "🦊"), fc.integer({ min: 20_000, max: 60_000 })).map(([c, n]) => c.repeat(n));
  return fc.oneof({ weight: 12, arbitrary: anyText() }, { weight: 1, arbitrary: huge });
}

/** A value of the wrong type, or text no real record holds. */
function oddValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3, noNullPrototype: true }),
    anyText(),
    fc.constant("lone \ud800 surrogate"),
  );
}

const ACCOUNT = fc.stringMatching(/^\d{12}$/);
const ARN = fc.oneof(
  fc.tuple(ACCOUNT, fc.constantFrom("user/alice", "role/ops", "root", "user/山田")).map(([a, r]) => `arn:aws:iam::${a}:${r}`),
  fc.tuple(ACCOUNT, fc.constantFrom("assumed-role/ops/session-1", "assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.com", "federated-user/bob")).map(([a, r]) => `arn:aws:sts::${a}:${r}`),
  anyText(),
);
const IDENTITY_TYPES = ["Root", "IAMUser", "AssumedRole", "Role", "FederatedUser", "Directory", "AWSAccount", "AWSService", "IdentityCenterUser", "Unknown", "SAMLUser", "WebIdentityUser"];

/** A `userIdentity` element: every documented field, each as documented, odd or missing. */
function userIdentity(): fc.Arbitrary<unknown> {
  const issuer = fc.record({ type: slot(fc.constantFrom("Role", "IAMUser", "Root")), principalId: slot(anyText()), arn: slot(ARN), accountId: slot(ACCOUNT), userName: slot(anyText()) });
  const sessionContext = fc.record({
    sessionIssuer: slot(issuer),
    webIdFederationData: slot(fc.record({ federatedProvider: slot(anyText()), attributes: slot(fc.dictionary(fc.string({ maxLength: 8 }), anyText(), { maxKeys: 2, noNullPrototype: true })) })),
    attributes: slot(fc.record({ creationDate: slot(fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString()))), mfaAuthenticated: slot(fc.constantFrom("true", "false")) })),
    sourceIdentity: slot(anyText()),
    ec2RoleDelivery: slot(fc.constantFrom("1.0", "2.0")),
    assumedRoot: slot(fc.constant("true")),
  });
  return fc.record({
    type: slot(fc.constantFrom(...IDENTITY_TYPES), { missing: 3 }),
    principalId: slot(anyText()),
    arn: slot(ARN),
    accountId: slot(ACCOUNT, { missing: 4 }),
    accessKeyId: slot(fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/)),
    userName: slot(anyText()),
    sessionContext: slot(sessionContext),
    invokedBy: slot(fc.constantFrom("AWS Internal", "ssm.amazonaws.com", "cloudtrail.amazonaws.com")),
    identityProvider: slot(anyText()),
    credentialId: slot(anyText()),
    onBehalfOf: slot(fc.record({ userId: slot(anyText()), identityStoreArn: slot(anyText()) })),
    inScopeOf: slot(fc.record({ issuerType: slot(anyText()), credentialsIssuedTo: slot(anyText()) })),
  });
}

/** A CloudTrail time: usually as CloudTrail writes it (from 1971 to 2099), sometimes not. */
const EVENT_TIME = fc.oneof(
  { weight: 8, arbitrary: fc.date({ min: new Date("1971-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, "Z")) },
  { weight: 1, arbitrary: fc.constantFrom("2014-03-06T21: 22: 54Z", "2025-02-30T10:00:00Z", "yesterday", "2025-03-03T10:02:03+09:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z") },
);

const JSON_OBJECT = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4, noNullPrototype: true });
const REQUEST_PARAMETERS = fc.oneof(
  JSON_OBJECT,
  fc.record({ bucketName: slot(anyText()), key: slot(anyText()), CreateBucketConfiguration: slot(fc.record({ LocationConstraint: slot(anyText()) })) }),
  fc.record({ instancesSet: slot(fc.record({ items: slot(fc.array(fc.record({ instanceId: slot(anyText()) }), { maxLength: 5 })) })), target: slot(anyText()), password: slot(anyText()) }),
  fc.constant(null),
);

/** A CloudTrail record: every field of the record contents reference, each as documented, odd or missing. */
function cloudTrailRecord(): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      eventVersion: slot(fc.constantFrom("1.08", "1.09", "1.10", "1.11")),
      userIdentity: slot(userIdentity(), { documented: 12 }),
      eventTime: slot(EVENT_TIME, { documented: 12 }),
      eventSource: slot(fc.constantFrom("s3.amazonaws.com", "ssm.amazonaws.com", "signin.amazonaws.com", "iam.amazonaws.com", "kms.amazonaws.com", "ec2.amazonaws.com"), { documented: 12 }),
      eventName: slot(fc.constantFrom("GetObject", "ConsoleLogin", "StartSession", "CreateBucket", "PutRolePolicy", "RunInstances", "Decrypt"), { documented: 12 }),
      awsRegion: slot(fc.constantFrom("us-east-1", "ap-northeast-1", "eu-west-3"), { documented: 12 }),
      sourceIPAddress: slot(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant("AWS Internal"), anyText())),
      userAgent: slot(anyTextOrHuge()),
      errorCode: slot(fc.constantFrom("AccessDenied", "NoSuchKey", "ThrottlingException"), { missing: 6 }),
      errorMessage: slot(anyTextOrHuge(), { missing: 6 }),
      requestParameters: slot(REQUEST_PARAMETERS),
      responseElements: slot(fc.oneof(JSON_OBJECT, fc.record({ ConsoleLogin: slot(fc.constantFrom("Success", "Failure")) }), fc.constant(null))),
      additionalEventData: slot(fc.oneof(JSON_OBJECT, fc.record({ MFAUsed: slot(fc.constantFrom("Yes", "No")), LoginTo: slot(anyText()) }))),
      requestID: slot(anyText()),
      eventID: slot(fc.oneof(fc.uuid(), anyTextOrHuge()), { documented: 12 }),
      eventType: slot(fc.constantFrom("AwsApiCall", "AwsServiceEvent", "AwsConsoleAction", "AwsConsoleSignIn", "AwsCloudTrailInsight", "AwsVpceEvent")),
      apiVersion: slot(anyText()),
      managementEvent: slot(fc.boolean()),
      readOnly: slot(fc.boolean()),
      resources: slot(fc.array(fc.record({ ARN: slot(ARN), accountId: slot(ACCOUNT), type: slot(anyText()) }), { maxLength: 6 })),
      recipientAccountId: slot(ACCOUNT, { missing: 4 }),
      serviceEventDetails: slot(JSON_OBJECT),
      sharedEventID: slot(fc.uuid()),
      vpcEndpointId: slot(anyText()),
      vpcEndpointAccountId: slot(ACCOUNT),
      eventCategory: slot(fc.constantFrom("Management", "Data", "NetworkActivity", "Insight")),
      addendum: slot(fc.record({ reason: slot(anyText()), updatedFields: slot(anyText()), originalRequestID: slot(anyText()), originalEventID: slot(anyText()) })),
      tlsDetails: slot(fc.record({ tlsVersion: slot(fc.constantFrom("TLSv1.2", "TLSv1.3")), cipherSuite: slot(anyText()), clientProvidedHostHeader: slot(anyText()) })),
      sessionCredentialFromConsole: slot(fc.constantFrom("true", "false")),
      edgeDeviceDetails: slot(JSON_OBJECT, { missing: 8 }),
      insightDetails: slot(JSON_OBJECT, { missing: 20 }),
    })
    .map((record) => JSON.parse(JSON.stringify(withoutMissing(record))) as Record<string, unknown>);
}

/** The value with every {@link MISSING} field removed, at any depth. */
function withoutMissing(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutMissing);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== MISSING).map(([key, item]) => [key, withoutMissing(item)]));
  }
  return value;
}

const LANGUAGE = fc.constantFrom<Language>("ja", "en");

describe("every handler over generated CloudTrail records (property)", function () {
  this.timeout(300_000);
  let gauntlet: RecordGauntlet;
  before(async () => {
    gauntlet = await RecordGauntlet.start();
  });
  after(async () => {
    await gauntlet.stop();
  });

  it("formatActivity and the chat notification render any record without a fault, in both languages", () => {
    fc.assert(
      fc.property(cloudTrailRecord(), LANGUAGE, (record, language) => {
        const problems = formattingProblems(record, language);
        expect(problems, problems.join("\n")).to.deep.equal([]);
      }),
      { numRuns: 300 },
    );
  });

  it("the notifier, the dispatcher and the download handler process, ignore or reject by name any batch of records", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cloudTrailRecord(), { minLength: 1, maxLength: 4 }), LANGUAGE, async (records, language) => {
        // Prepare
        run += 1;
        const items: GauntletRecord[] = records.map((record, i) => ({ index: run * 10 + i, from: "generated", record }));
        const criteria = criteriaSelecting(records);
        const problems: string[] = [];
        // Each run one delivery and one counter, taking turns.
        const delivery = run % 2 === 0 ? "eventbridge" : "logs";
        const counter = run % 4 < 2 ? "dynamodb" : "logs";

        // Act
        for (const item of items) {
          problems.push(...(await gauntlet.notifierProblems(item, language, delivery, criteria)));
          problems.push(...(await gauntlet.downloadProblems(item, language, delivery, "as-is")));
          problems.push(...(await gauntlet.downloadProblems(item, language, delivery, counter)));
        }
        problems.push(...(await gauntlet.notifierBatchProblems(items, language, criteria)));
        problems.push(...(await gauntlet.groupedNotifierProblems(items, language, delivery, criteria)));
        problems.push(...(await gauntlet.dispatcherProblems(items, criteria)));

        // Assess
        expect(problems, problems.join("\n")).to.deep.equal([]);
      }),
      { numRuns: Number(process.env.RECORD_PROPERTY_RUNS ?? 25) },
    );
  });
});

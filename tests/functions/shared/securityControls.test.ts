/**
 * The Security Hub CloudWatch controls: each pattern is the documented string, matches a positive record and rejects a
 * near miss (the project's filter-pattern evaluator), and its notifier preset selects exactly the same records, both as
 * the handler decides (activityMatches) and as the EventBridge rule's pattern does (the project's EventBridge matcher).
 *
 * Records are AWS documentation's own (tests/fixtures/awsdocs/awsdocs-cloudtrail-records.json, by index) where one fits;
 * otherwise derived from one of them by the change named beside it.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import { activityPrefilter, DETAIL_TYPE_OF_EVENT_TYPE } from "../../../components/activityPatterns";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { matchesRecordPattern } from "../../../functions/shared/recordPattern";
import { NETWORK_CHANGES_SELECTION, SECURITY_CONTROL_IDS, SECURITY_CONTROL_PRESET_NAMES, SECURITY_CONTROLS, securityControl, type SecurityControlId } from "../../../functions/shared/securityControls";
import { ACTIVITY_PRESET_NAMES, type ActivityPresetName, activityMatches } from "../../../functions/userActivity/criteria";
import { fixture } from "../../../simulation/fixtures";
import { logsFilterMatches } from "../../../simulation/logsFilterPattern";
import { PROJECT_DIRECTORY } from "../../support/engine";

interface Documented {
  controls: Array<{ id: string; title: string; filterPattern: string }>;
}
const documented = fixture<Documented>("awsdocs/securityhub-cloudwatch-controls.json");
const awsdocs = fixture<{ records: Array<{ from: string; record: CloudTrailRecord }> }>("awsdocs/awsdocs-cloudtrail-records.json").records;

/** A record AWS's documentation shows, by its index in the awsdocs fixture. */
interface DocumentedRecord {
  awsdocs: number;
  /** What the record is. */
  what: string;
}
/** A record derived from a documented one. */
interface DerivedRecord extends DocumentedRecord {
  change: Partial<CloudTrailRecord>;
}
type Sample = DocumentedRecord | DerivedRecord;

function recordOf(sample: Sample): CloudTrailRecord {
  const base = structuredClone(awsdocs[sample.awsdocs].record);
  return "change" in sample ? { ...base, ...structuredClone(sample.change) } : base;
}

function describeSample(sample: Sample): string {
  return "change" in sample ? `${sample.what} (derived from awsdocs record ${sample.awsdocs}: ${JSON.stringify(sample.change)})` : `${sample.what} (awsdocs record ${sample.awsdocs})`;
}

/** RunInstances by an IAM user (an EC2 API call), the base of the network controls' derived records. */
const EC2_CALL = 111;

const SAMPLES: Record<SecurityControlId, { positive: Sample[]; nearMiss: Sample[] }> = {
  "CloudWatch.1": {
    positive: [
      { awsdocs: 8, what: "the root user enabling an MFA device (an API call)" },
      { awsdocs: 5, what: "the root user signing in to the console" },
    ],
    nearMiss: [{ awsdocs: 8, what: "the same call made by an AWS service for the root user", change: { userIdentity: { ...awsdocs[8].record.userIdentity, invokedBy: "support.amazonaws.com" } } }],
  },
  "CloudWatch.2": {
    positive: [
      { awsdocs: 67, what: "GetFunction refused with AccessDenied" },
      { awsdocs: 197, what: "DeleteStateMachine refused with AccessDenied" },
    ],
    nearMiss: [{ awsdocs: 95, what: "a Decrypt that failed with IncorrectKeyException, not for lack of permission" }],
  },
  "CloudWatch.3": {
    positive: [{ awsdocs: 0, what: "an IAM user's successful console sign-in without MFA" }],
    nearMiss: [
      { awsdocs: 1, what: "an IAM user's sign-in with MFA" },
      { awsdocs: 5, what: "the root user's sign-in without MFA (not an IAM user)" },
    ],
  },
  "CloudWatch.4": {
    positive: [{ awsdocs: 8, what: "an IAM policy attached to a user", change: { eventName: "AttachUserPolicy" } }],
    nearMiss: [
      { awsdocs: 8, what: "an IAM call that changes no policy (EnableMFADevice)" },
      { awsdocs: 8, what: "Auto Scaling's DeletePolicy, which shares an IAM event name", change: { eventSource: "autoscaling.amazonaws.com", eventName: "DeletePolicy" } },
    ],
  },
  "CloudWatch.5": {
    positive: [
      { awsdocs: 11, what: "StartLogging" },
      { awsdocs: 19, what: "UpdateTrail (failed with TrailNotFoundException)" },
    ],
    nearMiss: [{ awsdocs: 26, what: "CloudTrail creating a service-linked channel (a CloudTrail event that changes no trail)" }],
  },
  "CloudWatch.6": {
    positive: [{ awsdocs: 7, what: "a console sign-in refused with Failed authentication" }],
    nearMiss: [
      { awsdocs: 36, what: "a console sign-in refused for an unknown user name" },
      { awsdocs: 0, what: "a successful console sign-in" },
    ],
  },
  "CloudWatch.7": {
    positive: [
      { awsdocs: 107, what: "DisableKey" },
      { awsdocs: 137, what: "ScheduleKeyDeletion" },
    ],
    nearMiss: [
      { awsdocs: 85, what: "CancelKeyDeletion" },
      { awsdocs: 115, what: "EnableKey" },
    ],
  },
  "CloudWatch.8": {
    positive: [{ awsdocs: 43, what: "PutBucketAcl" }],
    nearMiss: [{ awsdocs: 44, what: "GetBucketVersioning (S3, reads a bucket setting)" }],
  },
  "CloudWatch.9": {
    positive: [
      { awsdocs: 208, what: "StopConfigurationRecorder" },
      { awsdocs: 200, what: "DeleteDeliveryChannel" },
    ],
    nearMiss: [{ awsdocs: 207, what: "StartConfigurationRecorder" }],
  },
  "CloudWatch.10": {
    positive: [{ awsdocs: EC2_CALL, what: "a security group ingress rule added", change: { eventName: "AuthorizeSecurityGroupIngress" } }],
    nearMiss: [{ awsdocs: EC2_CALL, what: "RunInstances" }],
  },
  "CloudWatch.11": {
    positive: [{ awsdocs: EC2_CALL, what: "a network ACL entry created", change: { eventName: "CreateNetworkAclEntry" } }],
    nearMiss: [{ awsdocs: EC2_CALL, what: "a network interface created", change: { eventName: "CreateNetworkInterface" } }],
  },
  "CloudWatch.12": {
    positive: [{ awsdocs: EC2_CALL, what: "an internet gateway attached", change: { eventName: "AttachInternetGateway" } }],
    nearMiss: [{ awsdocs: EC2_CALL, what: "a VPN gateway attached (not a gateway the control lists)", change: { eventName: "AttachVpnGateway" } }],
  },
  "CloudWatch.13": {
    positive: [{ awsdocs: EC2_CALL, what: "a route created", change: { eventName: "CreateRoute" } }],
    nearMiss: [{ awsdocs: EC2_CALL, what: "a route of another service's API", change: { eventSource: "ec2-instance-connect.amazonaws.com", eventName: "CreateRoute" } }],
  },
  "CloudWatch.14": {
    positive: [{ awsdocs: EC2_CALL, what: "a VPC peering connection requested", change: { eventName: "CreateVpcPeeringConnection" } }],
    nearMiss: [{ awsdocs: EC2_CALL, what: "a VPC endpoint created", change: { eventName: "CreateVpcEndpoint" } }],
  },
};

/** Whether the preset's EventBridge rule receives the record: its detail type and its detail pattern. */
function eventBridgeReceives(preset: ActivityPresetName, record: CloudTrailRecord): boolean {
  const prefilter = activityPrefilter({ presets: [preset] });
  return prefilter.detailTypes.includes(DETAIL_TYPE_OF_EVENT_TYPE[record.eventType as string]) && prefilter.patterns.some((pattern) => matchesRecordPattern(record, pattern));
}

describe("securityControls (the Security Hub CloudWatch controls)", () => {
  it("holds CloudWatch.1 to CloudWatch.14 in Security Hub's order, each with its documented title", () => {
    expect(SECURITY_CONTROLS.map((c) => c.id)).to.deep.equal([...SECURITY_CONTROL_IDS]);
    expect(SECURITY_CONTROLS.map((c) => [c.id, c.title])).to.deep.equal(documented.controls.map((c) => [c.id, c.title]));
  });

  it("keeps each documented filter pattern exactly, character for character", () => {
    for (const [i, control] of SECURITY_CONTROLS.entries()) {
      expect(control.filterPattern, control.id).to.equal(documented.controls[i].filterPattern);
    }
  });

  it("names one preset per control, each offered by the notifier, and distinct metric names", () => {
    expect(SECURITY_CONTROLS.map((c) => c.preset.name)).to.deep.equal([...SECURITY_CONTROL_PRESET_NAMES]);
    expect(new Set(SECURITY_CONTROLS.map((c) => c.metricName)).size).to.equal(14);
    for (const name of [...SECURITY_CONTROL_PRESET_NAMES, "network-changes"]) {
      expect(ACTIVITY_PRESET_NAMES, name).to.include(name);
    }
  });

  it("finds a control by its ID", () => {
    expect(securityControl("CloudWatch.7").preset.name).to.equal("key-deletion");
  });

  for (const control of SECURITY_CONTROLS) {
    describe(`${control.id} (preset ${control.preset.name})`, () => {
      const preset = control.preset.name as ActivityPresetName;
      for (const sample of SAMPLES[control.id].positive) {
        it(`counts ${describeSample(sample)}, and the preset notifies it`, () => {
          const record = recordOf(sample);
          expect(logsFilterMatches(control.filterPattern, record), "metric filter").to.equal(true);
          expect(activityMatches(record, { presets: [preset] }), "notifier").to.equal(true);
          expect(eventBridgeReceives(preset, record), "EventBridge rule").to.equal(true);
        });
      }
      for (const sample of SAMPLES[control.id].nearMiss) {
        it(`does not count ${describeSample(sample)}, nor does the preset notify it`, () => {
          const record = recordOf(sample);
          expect(logsFilterMatches(control.filterPattern, record), "metric filter").to.equal(false);
          expect(activityMatches(record, { presets: [preset] }), "notifier").to.equal(false);
          expect(eventBridgeReceives(preset, record), "EventBridge rule").to.equal(false);
        });
      }
    });
  }

  it("agrees with its preset on every one of the 257 documented records that carries an event type", () => {
    // Records 34 and 35 are 2014 examples without eventType (CloudTrail writes it on every record today): the metric
    // filters do not look at it, the presets (and EventBridge's detail types) do.
    const typed = awsdocs.filter(({ record }) => typeof record?.eventType === "string");
    expect(awsdocs.length - typed.length).to.be.greaterThan(0);
    let matched = 0;
    for (const control of SECURITY_CONTROLS) {
      const preset = control.preset.name as ActivityPresetName;
      for (const { record } of typed) {
        const counted = logsFilterMatches(control.filterPattern, record);
        matched += counted ? 1 : 0;
        expect(activityMatches(record, { presets: [preset] }), `${control.id} on ${record.eventID}`).to.equal(counted);
        expect(eventBridgeReceives(preset, record), `${control.id} rule on ${record.eventID}`).to.equal(counted);
      }
    }
    expect(matched).to.equal(26);
  });

  it("network-changes takes every event name of CloudWatch.10 to CloudWatch.14, from EC2", () => {
    const names = SECURITY_CONTROLS.slice(9).flatMap((c) => [...(c.preset.selection.eventNames ?? [])]);
    expect([...(NETWORK_CHANGES_SELECTION.eventNames ?? [])]).to.deep.equal(names);
    expect(NETWORK_CHANGES_SELECTION.eventSources).to.deep.equal(["ec2.amazonaws.com"]);
    const record = recordOf(SAMPLES["CloudWatch.12"].positive[0]);
    expect(activityMatches(record, { presets: ["network-changes"] })).to.equal(true);
  });

  it("is documented in docs/securityAlarms.md: one table row per control, naming its preset", () => {
    const rows = fs
      .readFileSync(path.join(PROJECT_DIRECTORY, "docs", "securityAlarms.md"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("| CloudWatch."))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    expect(rows.map((cells) => [cells[1], cells[3]])).to.deep.equal(SECURITY_CONTROLS.map((c) => [c.id, `\`${c.preset.name}\``]));
  });
});

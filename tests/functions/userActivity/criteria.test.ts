import { expect } from "chai";

import { type ActivityCriteria, activityCriteriaProblems, activityMatches } from "../../../functions/userActivity/criteria";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { fixture, record } from "../../../simulation/fixtures";

const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;

describe("userActivity criteria", () => {
  describe("activityMatches", () => {
    const cases: Array<[string, CloudTrailRecord, ActivityCriteria, boolean]> = [
      ["a user's call by user name", ssm, { userNames: ["hogehoge"] }, true],
      ["another user's call", ssm, { userNames: ["someone-else"] }, false],
      ["the SSM preset on StartSession", ssm, { presets: ["ssm-sessions"] }, true],
      ["the SSM preset on another SSM call", record("sso-put-parameter-japanese.json"), { presets: ["ssm-sessions"] }, false],
      ["user and preset together", ssm, { userNames: ["hogehoge"], presets: ["ssm-sessions"] }, true],
      ["user and a preset the call is not in", ssm, { userNames: ["hogehoge"], presets: ["iam-changes"] }, false],
      ["a role ARN on its session", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"] }, true],
      ["an assumed-role session ARN", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:sts::123456789012:assumed-role/ci-deployer/deploy-2024-05-14"] }, true],
      ["an ARN prefix", record("sso-create-user-access-denied.json"), { principalArns: ["arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_*"] }, true],
      ["an Identity Center user by session name", record("sso-create-user-access-denied.json"), { sessionNames: ["alice@example.com"] }, true],
      ["a session name on an IAM user whose name ends the same", ssm, { sessionNames: ["hogehoge"] }, false],
      ["console sign-in preset on a root failure", record("root-console-login-failure.json"), { presets: ["console-sign-in"] }, true],
      ["console sign-in preset on a hidden-name failure", record("iam-user-console-login-hidden-name.json"), { presets: ["console-sign-in"] }, true],
      ["IAM changes on PutRolePolicy", record("assumed-role-put-role-policy.json"), { presets: ["iam-changes"] }, true],
      ["IAM changes on a failed CreateUser", record("sso-create-user-access-denied.json"), { presets: ["iam-changes"] }, true],
      ["bucket creation on CreateBucket", record("create-bucket.json"), { presets: ["bucket-creation"] }, true],
      ["an event name prefix", record("create-bucket.json"), { eventNames: ["Create*"] }, true],
      ["an event source and a name of another source", record("create-bucket.json"), { eventSources: ["iam.amazonaws.com"], eventNames: ["CreateBucket"] }, false],
      ["read-only calls when included", record("federated-user-list-buckets.json"), { eventSources: ["s3.amazonaws.com"] }, true],
      ["read-only calls when excluded", record("federated-user-list-buckets.json"), { eventSources: ["s3.amazonaws.com"], readOnlyEvents: "exclude" }, false],
      ["calls CloudTrail did not mark when read-only calls are excluded", { ...record("create-bucket.json"), readOnly: undefined }, { eventSources: ["s3.amazonaws.com"], readOnlyEvents: "exclude" }, false],
      ["read-only IAM calls for IAM changes", { ...record("assumed-role-put-role-policy.json"), eventName: "GetRole", readOnly: true }, { presets: ["iam-changes"] }, false],
      ["an excluded Describe* of a monitoring role", { ...record("assumed-role-put-role-policy.json"), eventName: "DescribeInstances", eventSource: "ec2.amazonaws.com" }, { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], eventNames: ["Describe*"] }] }, false],
      ["a call of that role the exclusion does not cover", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], eventNames: ["Describe*"] }] }, true],
      ["AWS service events for a person's criteria", record("unknown-identity-center-sign-in-japanese.json"), { eventSources: ["signin.amazonaws.com"] }, false],
    ];
    for (const [title, rec, criteria, expected] of cases) {
      it(`${expected ? "accepts" : "refuses"} ${title}`, () => {
        expect(activityMatches(rec, criteria)).to.equal(expected);
      });
    }
  });


  describe("activityCriteriaProblems", () => {
    const cases: Array<[string, unknown, string[]]> = [
      ["a valid preset", { presets: ["ssm-sessions"] }, []],
      ["nothing to watch", {}, ["c must name at least one of userNames, principalArns, sessionNames, eventSources, eventNames, presets; a notifier for every call in the account would flood the topic"]],
      ["an unknown preset", { presets: ["ssh"] }, ['c.presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, root-activity, unauthorized-calls, no-mfa-sign-in, iam-policy-changes, trail-changes, console-auth-failures, key-deletion, bucket-policy-changes, config-changes, security-group-changes, network-acl-changes, network-gateway-changes, route-table-changes, vpc-changes, network-changes, got "ssh"']],
      ["a control character in a user name", { userNames: ["a\nb"] }, ['c.userNames[0] must be a user name (1-128 characters, no control characters), got "a\\nb"']],
      ["a principal ARN with an inner wildcard", { principalArns: ["arn:aws:iam::123456789012:role/*-admin"] }, ['c.principalArns[0] must be an IAM or STS principal ARN, optionally ending in * for a prefix (arn:aws:iam::111122223333:role/ops-*), got "arn:aws:iam::123456789012:role/*-admin"']],
      ["a lower-case event source", { eventSources: ["SSM"] }, ['c.eventSources[0] must be an event source such as ssm.amazonaws.com, got "SSM"']],
      ["an event name with a space", { eventNames: ["Start Session"] }, ['c.eventNames[0] must be an event name such as StartSession, or a prefix ending in * such as Describe*, got "Start Session"']],
      ["a bad read-only setting", { userNames: ["a"], readOnlyEvents: "no" }, ['c.readOnlyEvents must be "include" or "exclude", got "no"']],
      ["an unknown setting", { userName: "a" }, ["c.userName is not a known setting (expected one of userNames, principalArns, sessionNames, eventSources, eventNames, presets, readOnlyEvents, exclude)"]],
      ["an empty exclusion", { userNames: ["a"], exclude: [{}] }, ["c.exclude[0] must name at least one of userNames, principalArns, sessionNames, eventSources, eventNames"]],
      ["a preset inside an exclusion", { userNames: ["a"], exclude: [{ presets: ["iam-changes"] }] }, ["c.exclude[0].presets is not a known setting (expected one of userNames, principalArns, sessionNames, eventSources, eventNames)"]],
      ["a list given as a string", { userNames: "a" }, ['c.userNames must be a list, got "a"']],
    ];
    for (const [title, value, problems] of cases) {
      it(`${problems.length === 0 ? "accepts" : "reports"} ${title}`, () => {
        expect(activityCriteriaProblems(value, "c")).to.deep.equal(problems);
      });
    }

    it("accepts a user name with a quote in it", () => {
      expect(activityCriteriaProblems({ userNames: ['o"brien'] }, "c")).to.deep.equal([]);
    });
  });
});

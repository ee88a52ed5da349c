import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";

import { checkDownloadAlertSettings, MAX_WATCHES_ENVIRONMENT_BYTES } from "../../components/downloadAlertSettings";
import { collectProblems, type ProblemSink } from "../../functions/shared/problems";

const BUCKET = "confidential-reports";

describe("checkDownloadAlertSettings", () => {
  it("reports every problem to the sink, in order, each starting with the argument's path", () => {
    // Prepare
    const problems = collectProblems();

    // Act
    checkDownloadAlertSettings(
      {
        watches: [{ bucket: BUCKET, key: "a.pdf", threshold: 1 }, { bucket: BUCKET, key: "a.pdf", threshold: 2 }, "b.pdf"],
        reset: { schedule: "0 1 * * 1", zone: "Asia/Tokyo" },
        notify: "always",
        partition: "aws-eu",
      },
      problems,
    );

    // Assess
    expect(problems.list).to.deep.equal([
      `watches[1] watches s3://${BUCKET}/a.pdf again (as watches[0]); give each object or prefix once`,
      'watches[2] must be an object { bucket, key | keyPrefix, threshold }, got "b.pdf"',
      'reset has unknown field "zone"; expected schedule, timeZone',
      'notify must be "every" or "once", got "always"',
      'partition must be "aws", "aws-cn" or "aws-us-gov", got "aws-eu"',
    ]);
  });

  it("finds nothing wrong with good settings, and checks sizes only once every watch is usable", () => {
    const good = collectProblems();
    const tooMany = Array.from({ length: 40 }, (_, i) => ({ bucket: BUCKET, key: `reports/2025/quarterly-${i}.pdf`, threshold: 1 }));
    const unusable = collectProblems();

    checkDownloadAlertSettings({ watches: [{ bucket: BUCKET, keyPrefix: "", threshold: 1 }], reset: { schedule: "30 2 * * *", timeZone: "America/New_York" }, counter: "logs", source: "logs" }, good);
    checkDownloadAlertSettings({ watches: [...tooMany, { bucket: BUCKET, threshold: 1 }] }, unusable);

    expect(good.list).to.deep.equal([]);
    expect(unusable.list).to.deep.equal(["watches[40] needs key (one object) or keyPrefix (every object under it)"]);
    expect(JSON.stringify(tooMany).length).to.be.greaterThan(MAX_WATCHES_ENVIRONMENT_BYTES);
  });

  it("passes over values the sink is told to skip, such as Outputs known only on deployment", () => {
    const problems = collectProblems({ skip: (value) => pulumi.Output.isInstance(value) });

    checkDownloadAlertSettings({ watches: [{ bucket: BUCKET, key: "a.pdf", threshold: 1 }], timeZone: pulumi.output("Tokyo"), language: pulumi.output("fr") }, problems);

    expect(problems.list).to.deep.equal([]);
  });

  it("lets a sink stop at the first problem, as the stack config does", () => {
    const stopping: ProblemSink = {
      check(path, value, ok, expectation) {
        if (value !== undefined && !ok(value as never)) {
          throw new Error(`${path} must be ${expectation}`);
        }
        return this;
      },
      fail(message) {
        throw new Error(message);
      },
    };

    expect(() => checkDownloadAlertSettings({ watches: [{ bucket: BUCKET, key: "a.pdf", threshold: 1 }], notify: "always", language: "fr" }, stopping)).to.throw(/^notify must be "every" or "once"$/);
  });
});

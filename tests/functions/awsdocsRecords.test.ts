/**
 * Every CloudTrail record of AWS's own documentation (tests/fixtures/awsdocs, 257 records no one here wrote, with their
 * placeholders, missing fields and odd shapes), in Japanese and English, through every handler that can receive it:
 * the formatter, the UserActivityNotifier (EventBridge and CloudWatch Logs, one by one and in one batch, with burst
 * grouping and its sweep), the LogSubscriptionDispatcher and the DownloadThresholdAlert (as it is, and made a download
 * past its threshold under the DynamoDB and the logs counter); see simulation/recordGauntlet.ts for what must hold. Each failing record is named by its index in the corpus and the
 * documentation page it came from.
 */
import { expect } from "chai";

import type { Language } from "../../functions/shared/readableEvent";
import { awsdocsRecords, criteriaSelecting, type Delivery, formattingProblems, type GauntletRecord, RecordGauntlet, rejectionExpected, selectedEventIds } from "../../simulation/recordGauntlet";

const corpus = awsdocsRecords();
const criteria = criteriaSelecting(corpus.map((item) => item.record));
const LANGUAGES: Language[] = ["ja", "en"];
const DELIVERIES: Delivery[] = ["eventbridge", "logs"];

/** Runs `check` on every record, one after the other; returns `#index from: problem` for each problem found. */
async function failuresOver(items: readonly GauntletRecord[], check: (item: GauntletRecord) => string[] | Promise<string[]>): Promise<string[]> {
  const failures: string[] = [];
  for (const item of items) {
    for (const problem of await check(item)) {
      failures.push(`#${item.index} ${item.from}: ${problem}`);
    }
  }
  return failures;
}

/** Asserts no failures, listing them all (with their count) when there are some. */
function expectNone(failures: string[]): void {
  expect(failures, `${failures.length} problems:\n${failures.join("\n")}\n`).to.deep.equal([]);
}

describe("every handler over the CloudTrail records of AWS's documentation", function () {
  this.timeout(120_000);
  let gauntlet: RecordGauntlet;
  before(async () => {
    gauntlet = await RecordGauntlet.start();
  });
  after(async () => {
    await gauntlet.stop();
  });

  it("holds the 257 records its README describes, usable and unusable ones, many of them selected by a preset", () => {
    // Prepare / Act
    const unusable = corpus.filter((item) => rejectionExpected(item.record) !== undefined);
    const byPresets = selectedEventIds(corpus, { presets: criteria.presets });

    // Assess
    expect(corpus).to.have.length(257);
    expect(corpus.every((item) => typeof item.from === "string" && item.from.startsWith("awsdocs/"))).to.equal(true);
    // 9 without an event ID, 2 without an event time (both among them), 5 Insights events without a name; the rest usable.
    expect(unusable.length).to.be.within(10, 20);
    // The presets alone (Security Hub controls, sign-ins, sessions, IAM changes) select records of the corpus.
    expect(byPresets.length).to.be.at.least(20);
  });

  for (const language of LANGUAGES) {
    describe(`in ${language === "ja" ? "Japanese" : "English"}`, () => {
      it("formatActivity and the chat notification render every record without a fault", async () => {
        // Act
        const failures = await failuresOver(corpus, (item) => formattingProblems(item.record, language));

        // Assess
        expectNone(failures);
      });

      for (const delivery of DELIVERIES) {
        it(`the UserActivityNotifier notifies what its criteria select and rejects by name what it cannot use, record by record (${delivery})`, async () => {
          // Act
          const failures = await failuresOver(corpus, (item) => gauntlet.notifierProblems(item, language, delivery, criteria));

          // Assess
          expectNone(failures);
        });

        it(`the DownloadThresholdAlert ignores or rejects by name every record as it is (${delivery})`, async () => {
          // Act
          const failures = await failuresOver(corpus, (item) => gauntlet.downloadProblems(item, language, delivery, "as-is"));

          // Assess
          expectNone(failures);
        });
      }

      // The DynamoDB counter in Japanese (EventBridge), the logs counter in English (CloudWatch Logs): each counter,
      // language and delivery once (the counter's three writes per download make this one of the slow runs).
      const counter = language === "ja" ? "dynamodb" : "logs";
      const downloads: Delivery = language === "ja" ? "eventbridge" : "logs";
      it(`the DownloadThresholdAlert alerts on every usable record made a download past its threshold (${counter} counter, ${downloads})`, async () => {
        // Act
        const failures = await failuresOver(corpus, (item) => gauntlet.downloadProblems(item, language, downloads, counter));

        // Assess
        expectNone(failures);
      });

      it("the UserActivityNotifier, given every record in one batch, notifies what it selects and rejects only the unusable", async () => {
        // Act
        const problems = await gauntlet.notifierBatchProblems(corpus, language, criteria);

        // Assess
        expect(selectedEventIds(corpus, criteria).length).to.be.at.least(150);
        expectNone(problems);
      });

      const grouped: Delivery = language === "ja" ? "eventbridge" : "logs";
      it(`the UserActivityNotifier with burst grouping notifies or counts every selected event, and its sweep summarises them in both languages (${grouped})`, async () => {
        // Act
        const problems = await gauntlet.groupedNotifierProblems(corpus, language, grouped, criteria);

        // Assess
        expectNone(problems);
      });
    });
  }

  it("the LogSubscriptionDispatcher forwards or rejects by name every record, one at a time", async () => {
    // Act
    const failures = await failuresOver(corpus, (item) => gauntlet.dispatcherProblems([item], criteria));

    // Assess
    expectNone(failures);
  });

  it("the LogSubscriptionDispatcher, given every record in one batch, rejects only the unusable", async () => {
    // Act
    const problems = await gauntlet.dispatcherProblems(corpus, criteria);

    // Assess
    expectNone(problems);
  });
});

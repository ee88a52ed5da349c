import { expect } from "chai";

import { loadStackFiles } from "../../preview/stackFiles";
import { loadStackConfig, StackConfigError, type RawConfig } from "../../stackConfig";
import { PROJECT_DIRECTORY } from "../support/engine";

const KEY = "cloudtrail-alerts:downloadAlerts";

/** The dev stack's config with `downloadAlerts` replaced (undefined: the key is not set at all). */
function configWith(downloadAlerts: unknown): RawConfig {
  const config: Record<string, string> = { ...loadStackFiles(PROJECT_DIRECTORY, "dev").config };
  delete config[KEY];
  if (downloadAlerts !== undefined) {
    config[KEY] = JSON.stringify(downloadAlerts);
  }
  return (key) => config[key];
}

function errorOf(raw: RawConfig): StackConfigError | undefined {
  try {
    loadStackConfig(raw);
    return undefined;
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
}

describe("stack config downloadAlerts", () => {
  it("gives the dev stack one watched object, with the stack's time zone, language and function log retention", () => {
    const config = loadStackConfig(configWith(JSON.parse(loadStackFiles(PROJECT_DIRECTORY, "dev").config[KEY])));

    expect(config.downloadAlerts).to.deep.equal({
      watches: [{ bucket: "confidential-reports", key: "2025/売上報告 Q1.pdf", threshold: 5 }],
      reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
      notify: "every",
      language: "ja",
      timeZone: "Asia/Tokyo",
      logRetentionInDays: 30,
    });
  });

  it("creates no download alerts when no object is watched (the project default) or the key is not set", () => {
    expect(loadStackConfig(configWith({ watches: [] })).downloadAlerts).to.equal(undefined);
    expect(loadStackConfig(configWith(undefined)).downloadAlerts).to.equal(undefined);
  });

  it("keeps a reset time zone that is given", () => {
    const config = loadStackConfig(configWith({ watches: [{ bucket: "b-1", keyPrefix: "x/", threshold: 1 }], reset: { timeZone: "Europe/Berlin" }, source: "logs", counter: "logs" }));

    expect(config.downloadAlerts).to.deep.include({ reset: { timeZone: "Europe/Berlin" }, source: "logs", counter: "logs" });
  });

  it("reads source logs through the stack's shared dispatcher: no own filter pattern to fit in 1,024 characters", () => {
    const watches = Array.from({ length: 16 }, (_, i) => ({ bucket: "confidential-reports", key: `reports/2025/quarterly-${i}.pdf`, threshold: 1 }));

    expect(loadStackConfig(configWith({ watches, source: "logs" })).downloadAlerts).to.deep.include({ watches, source: "logs" });
  });

  const cases: Array<[string, unknown, string, string]> = [
    ["a threshold of 0", { watches: [{ bucket: "confidential-reports", key: "a.pdf", threshold: 0 }] }, `${KEY}.watches[0].threshold`, `${KEY}.watches[0].threshold must be a whole number >= 1, got 0`],
    ["a threshold in quotes", { watches: [{ bucket: "confidential-reports", key: "a.pdf", threshold: "5" }] }, `${KEY}.watches[0].threshold`, `${KEY}.watches[0].threshold must be a whole number >= 1, got "5"`],
    ["a list instead of an object", [{ bucket: "confidential-reports", key: "a.pdf", threshold: 5 }], KEY, `${KEY} must be an object { watches, reset, notify, source, counter }, got [{"bucket":"confidential-reports","key":"a.pdf","threshold":5}]`],
    ["an unknown field", { watches: [], notfy: "once" }, `${KEY}.notfy`, `${KEY} has unknown field "notfy"; expected watches, reset, notify, source, counter`],
    ["watches that are not a list", { watches: "confidential-reports" }, KEY, `${KEY}.watches must be a non-empty list of { bucket, key | keyPrefix, threshold }, got "confidential-reports"`],
    ["a misspelt watch field", { watches: [{ bucket: "confidential-reports", key: "a.pdf", treshold: 5 }] }, KEY, `${KEY}.watches[0] has unknown field "treshold"; expected bucket, key, keyPrefix, threshold`],
    ["a bad schedule", { watches: [{ bucket: "confidential-reports", key: "a.pdf", threshold: 5 }], reset: { schedule: "every monday" } }, KEY, `${KEY}.reset.schedule must be a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1", got "every monday"`],
    ["an unknown source", { watches: [{ bucket: "confidential-reports", key: "a.pdf", threshold: 5 }], source: "dispatcher" }, `${KEY}.source`, `${KEY}.source must be "eventbridge" or "logs", got "dispatcher"`],
    ["an unknown notify mode", { watches: [{ bucket: "confidential-reports", key: "a.pdf", threshold: 5 }], notify: "twice" }, `${KEY}.notify`, `${KEY}.notify must be "every" or "once", got "twice"`],
  ];
  for (const [title, value, key, message] of cases) {
    it(`rejects ${title} with one line naming the key path and the value`, () => {
      const error = errorOf(configWith(value));

      expect(error?.message).to.equal(message);
      expect(error?.key).to.equal(key);
    });
  }
});

// The spec reporter, plus a JSON summary of the counts in the file named by MOCHA_SUMMARY_FILE, when set.
// CI prints "N passed, N failed" from it, so a run that executed no test is visible.
"use strict";
const fs = require("fs");
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.MOCHA_SUMMARY_FILE;
    if (file) {
      runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
        const { passes, failures, pending, tests } = this.stats;
        fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
      });
    }
  }
}

module.exports = SummaryReporter;

// mocha configuration: TypeScript through ts-node (type checking runs separately in `npm test`), the offline
// engine installed once by a root hook, and a reporter that also writes a pass/fail summary for CI.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
process.env.TS_NODE_FILES = "true";

module.exports = {
  require: ["ts-node/register", "tests/support/engine.ts"],
  spec: ["tests/**/*.test.ts"],
  extension: ["ts"],
  reporter: "tests/support/summaryReporter.js",
  forbidOnly: true,
  timeout: 30000,
  slow: 2000,
};

// mocha configuration: TypeScript through ts-node (type checking runs separately in `npm test`), the offline
// engine installed once by a root hook, and a reporter that also writes a pass/fail summary for CI.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
process.env.TS_NODE_FILES = "true";
// The AWS SDK warns on every run that its next releases will need Node.js 22; Lambda runs nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

// mocha adds the configured spec to the files named on the command line; name no spec here when the command line
// names one (`npx mocha --spec FILE` or `npx mocha FILE`), so that it runs that file only.
const namedOnCommandLine = process.argv.slice(2).some((arg, i, args) => arg === "--spec" || arg.startsWith("--spec=") || (/\.test\.ts$/.test(arg) && args[i - 1] !== "--require"));

module.exports = {
  require: ["ts-node/register", "tests/support/engine.ts"],
  ...(namedOnCommandLine ? {} : { spec: ["tests/**/*.test.ts"] }),
  extension: ["ts"],
  reporter: "tests/support/summaryReporter.js",
  forbidOnly: true,
  timeout: 30000,
  slow: 2000,
};

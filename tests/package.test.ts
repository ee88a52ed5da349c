/**
 * The library as another Pulumi program gets it: the package entry points (built JavaScript and type declarations),
 * and a consumer install under node_modules whose callback uses the package's handler helpers and must still
 * serialize into a self-contained Lambda archive.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { materializeArchive, withEnvironment } from "../preview/lambdaArchive";
import { PROJECT_DIRECTORY, resourcesOf, single } from "./support/engine";
import { FakeSns } from "../simulation/fakeSns";

interface PackageJson {
  name: string;
  main: string;
  types: string;
  files: string[];
  exports: Record<string, { types: string; default: string } | string>;
  dependencies: Record<string, string>;
}

const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "package.json"), "utf8")) as PackageJson;

describe("package", () => {
  it("points main, types and exports at the built components barrel and the functions barrel", () => {
    expect(packageJson.main).to.equal("bin/components/index.js");
    expect(packageJson.types).to.equal("bin/components/index.d.ts");
    expect(packageJson.exports["."]).to.deep.equal({ types: "./bin/components/index.d.ts", default: "./bin/components/index.js" });
    expect(packageJson.exports["./functions"]).to.deep.equal({ types: "./bin/functions/index.d.ts", default: "./bin/functions/index.js" });
    for (const file of [packageJson.main, packageJson.types, "bin/functions/index.js", "bin/functions/index.d.ts"]) {
      expect(fs.existsSync(path.join(PROJECT_DIRECTORY, file)), file).to.equal(true);
    }
  });

  it("exports every component from the package entry", () => {
    // The package resolves itself by name through its exports map, as a consumer's require would.
    const library = require("cloudtrail-alerts") as Record<string, unknown>;
    for (const name of ["AlertTopic", "AuditTrail", "BucketCreationAlarm", "SecureCallbackFunction"]) {
      expect(library[name], name).to.be.a("function");
    }
  });

  describe("installed under another program's node_modules", () => {
    let consumerDirectory: string;

    before(() => {
      // Prepare: lay out the published files as npm would install them, with the dependencies beside them.
      consumerDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-"));
      const installed = path.join(consumerDirectory, "node_modules", packageJson.name);
      fs.mkdirSync(installed, { recursive: true });
      fs.copyFileSync(path.join(PROJECT_DIRECTORY, "package.json"), path.join(installed, "package.json"));
      for (const folder of packageJson.files) {
        fs.cpSync(path.join(PROJECT_DIRECTORY, folder), path.join(installed, folder), { recursive: true });
      }
      for (const dependency of new Set(Object.keys(packageJson.dependencies).map((d) => d.split("/")[0]))) {
        fs.symlinkSync(path.join(PROJECT_DIRECTORY, "node_modules", dependency), path.join(consumerDirectory, "node_modules", dependency), "dir");
      }
      fs.writeFileSync(
        path.join(consumerDirectory, "program.js"),
        [
          '"use strict";',
          // Referenced through its module object, the SDK is `require`d in the archive; a destructured class would be
          // serialized by value, which fails on the SDK's native code.
          'const sns = require("@aws-sdk/client-sns");',
          'const { AlertTopic, SecureCallbackFunction } = require("cloudtrail-alerts");',
          'const { ALERT_TOPIC_ARN_VARIABLE, decodeCloudTrailPayload, environmentReader, publishAlert } = require("cloudtrail-alerts/functions");',
          "function callbackFactory() {",
          '  const topicArn = environmentReader().required(ALERT_TOPIC_ARN_VARIABLE);',
          "  const client = new sns.SNSClient({});",
          "  return async (event) => {",
          "    const { records } = decodeCloudTrailPayload(event);",
          "    for (const r of records) await publishAlert(client, topicArn, { subject: r.eventName, message: r.eventID });",
          "    return records.length;",
          "  };",
          "}",
          'const alertTopic = new AlertTopic("pkg-consumer-topic", {});',
          'exports.fn = new SecureCallbackFunction("pkg-consumer-fn", { description: "consumer callback", callbackFactory, statements: [], alertTopic, publishesAlerts: true });',
        ].join("\n"),
      );
    });

    it("serializes the package's handler helpers by value, so the archive runs without the package", async () => {
      // Act
      const program = require(path.join(consumerDirectory, "program.js")) as { fn: import("../components").SecureCallbackFunction };
      const fnResource = single(await resourcesOf(program.fn), "aws:lambda/function:Function");
      const archive = await materializeArchive(fnResource.inputs.code);
      const code = fs.readFileSync(path.join(archive.taskDirectory, "__index.js"), "utf8");
      const variables = (fnResource.inputs.environment as { variables: Record<string, string> }).variables;
      const sns = await FakeSns.start([variables.ALERT_TOPIC_ARN]);
      const handled = await withEnvironment({ ...sns.environment, ...variables }, () =>
        archive.loadHandler<unknown, number>()(JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "eventbridge", "ssm-start-session.json"), "utf8"))),
      );
      await sns.stop();

      // Assess
      expect(code).not.to.include("cloudtrail-alerts");
      expect(archive.files.map((f) => f.path)).to.deep.equal(["__index.js"]);
      expect(handled).to.equal(1);
      expect(sns.published.map((m) => [m.subject, m.message])).to.deep.equal([["StartSession", "9a8b7c6d-5e4f-4321-9abc-def012345678"]]);
    });
  });
});

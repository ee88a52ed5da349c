/**
 * The library as another Pulumi program gets it: the package entry points (built JavaScript and type declarations),
 * the tarball `npm pack` makes, a consumer install under node_modules whose callback uses the package's handler
 * helpers and must still serialize into a self-contained Lambda archive, and a consumer program with its own
 * @pulumi/pulumi that type-checks against the package and runs it (tests/support/packedPackage.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { materializeArchive, withEnvironment } from "../preview/lambdaArchive";
import { devStack } from "./support/devStack";
import { PROJECT_DIRECTORY, resourcesOf, single } from "./support/engine";
import { type ConsumerRun, packedPackage, removePackedPackage, runConsumer } from "./support/packedPackage";
import { loadStackFiles } from "../preview/stackFiles";
import { configArgs } from "../stackConfig";
import { FakeSns } from "../simulation/fakeSns";

interface PackageJson {
  name: string;
  private?: boolean;
  license: string;
  engines: Record<string, string>;
  main: string;
  types: string;
  files: string[];
  exports: Record<string, { types: string; default: string } | string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "package.json"), "utf8")) as PackageJson;

describe("package", () => {
  after(async () => {
    await removePackedPackage();
  });

  it("points types and exports at the built components barrel and the functions barrel, main at the component package's provider", () => {
    // Node and TypeScript take the library from `exports` (and `types`); `main` is what Pulumi's plugin host runs.
    expect(packageJson.main).to.equal("bin/provider.js");
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

    before(async () => {
      // Prepare: lay out the published files as npm would install them, with the dependencies beside them.
      consumerDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-"));
      const installed = path.join(consumerDirectory, "node_modules", packageJson.name);
      fs.mkdirSync(path.dirname(installed), { recursive: true });
      fs.cpSync((await packedPackage()).directory, installed, { recursive: true });
      // A consumer brings the peers (@pulumi/pulumi, @pulumi/aws) itself; npm installs the dependencies.
      for (const dependency of new Set(Object.keys({ ...packageJson.dependencies, ...packageJson.peerDependencies }).map((d) => d.split("/")[0]))) {
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

  describe("packed by npm pack", function () {
    this.timeout(300_000);
    let files: string[];
    let directory: string;

    before(async () => {
      ({ files, directory } = await packedPackage());
    });

    it("holds LICENSE (the Apache License 2.0), README, docs/, PulumiPlugin.yaml and the built library; no TypeScript sources", () => {
      const license = fs.readFileSync(path.join(directory, "LICENSE"), "utf8");

      expect(files).to.include.members(["LICENSE", "README.md", "PulumiPlugin.yaml", "package.json", "docs/schema.json", "docs/trailBackfill.md", "bin/provider.js", "bin/components/index.js", "bin/components/index.d.ts", "bin/functions/index.js", "bin/stackConfig/index.js"]);
      expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).to.deep.equal([]);
      expect(license).to.match(/^\s*Apache License\s+Version 2\.0, January 2004/);
      expect(license).to.include("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
      expect(license).to.include("END OF TERMS AND CONDITIONS");
      expect(packageJson.license).to.equal("Apache-2.0");
      expect(packageJson.private).to.equal(undefined);
    });

    it("ships every source map with its sources, and every map a script points at", () => {
      const maps = files.filter((f) => f.endsWith(".js.map"));
      const withoutSources = maps.filter((map) => {
        const { sources, sourcesContent } = JSON.parse(fs.readFileSync(path.join(directory, map), "utf8")) as { sources: string[]; sourcesContent?: Array<string | null> };
        return sourcesContent?.length !== sources.length || sourcesContent.some((content) => typeof content !== "string");
      });
      const pointing = files.filter((f) => f.endsWith(".js") && /\/\/# sourceMappingURL=/.test(fs.readFileSync(path.join(directory, f), "utf8")));

      expect(maps.length).to.be.greaterThan(0);
      expect(withoutSources).to.deep.equal([]);
      expect(pointing.filter((f) => !files.includes(`${f}.map`))).to.deep.equal([]);
    });

    it("brings no @pulumi/pulumi or @pulumi/aws of its own: they are peers, on Node.js 22 or later", () => {
      expect(packageJson.engines.node).to.equal(">=22");
      expect(Object.keys(packageJson.peerDependencies).sort()).to.deep.equal(["@pulumi/aws", "@pulumi/pulumi"]);
      expect(Object.keys(packageJson.dependencies).filter((d) => d.startsWith("@pulumi/"))).to.deep.equal([]);
    });
  });

  describe("installed from its tarball into a program with its own @pulumi/pulumi", function () {
    this.timeout(300_000);
    let consumer: ConsumerRun;

    before(async () => {
      const config = loadStackFiles(PROJECT_DIRECTORY, "dev").config;
      consumer = await runConsumer(config, configArgs((key) => config[key]));
    });

    it("type-checks a program importing cloudtrail-alerts and cloudtrail-alerts/functions under moduleResolution node", () => {
      expect(consumer.typeChecks.node10.code, consumer.typeChecks.node10.output).to.equal(0);
    });

    it("type-checks the same program under moduleResolution node16", () => {
      expect(consumer.typeChecks.node16.code, consumer.typeChecks.node16.output).to.equal(0);
    });

    it("runs it under mocks with one copy of @pulumi/pulumi, the program's, and builds the dev stack's resources", async () => {
      const { resources } = await devStack();
      const named = (list: Array<{ type: string; name: string }>) => list.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => `${r.type} ${r.name}`).sort();

      expect(consumer.run.code, consumer.run.output).to.equal(0);
      const report = consumer.report!;
      expect(report.pulumiCopies).to.deep.equal([path.join(fs.realpathSync(consumer.directory), "node_modules", "@pulumi", "pulumi", "index.js")]);
      expect(fs.existsSync(path.join(consumer.directory, "node_modules", "cloudtrail-alerts", "node_modules"))).to.equal(false);
      expect(named(report.registered)).to.deep.equal(named(resources));
      expect(report.outputs).to.deep.include({ trailLogGroupName: "/aws/cloudtrail/consumer-dev-trail" });
      expect(report.functions).to.deep.equal({ decodeCloudTrailPayload: "function", publishAlert: "function" });
    });
  });
});

/**
 * The CI this project runs (.ci/run) and the example workflow users copy (.github/workflows/preview.yml): Node.js 22,
 * pinned actions and CLI, least privilege, and no secrets for code from forks or Dependabot.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import { parse } from "yaml";

import { PROJECT_DIRECTORY } from "./support/engine";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

interface Job {
  if?: string;
  needs?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, ".github", "workflows", "preview.yml"), "utf8")) as Workflow;
const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };

describe("CI", () => {
  describe(".ci/run", () => {
    const script = fs.readFileSync(path.join(PROJECT_DIRECTORY, ".ci", "run"), "utf8");

    it("installs the npm registry's node@22 into an ignored folder and puts it first on PATH before npm ci and npm test", () => {
      const gitignore = fs.readFileSync(path.join(PROJECT_DIRECTORY, ".gitignore"), "utf8").split("\n");

      expect(script).to.match(/node_major=22\n/);
      expect(script).to.include('npm install --prefix "$node_dir" --no-save --no-package-lock --no-audit --no-fund "node@$node_major"');
      expect(script.indexOf('PATH="$PWD/$node_dir/node_modules/.bin:$PATH"')).to.be.lessThan(script.indexOf("npm ci"));
      expect(script.indexOf("npm ci")).to.be.lessThan(script.indexOf("npm test"));
      expect(gitignore).to.include(".ci/node22/");
    });

    it("ends every path with the line N passed, N failed", () => {
      expect(script.trimEnd().split("\n").slice(-3)).to.deep.equal(["status=$?", "report", 'exit "$status"']);
      expect(script.match(/\n\s*exit 1\n/g)?.length).to.equal(script.match(/\n\s*report\n\s*exit 1\n/g)?.length);
    });
  });

  describe(".github/workflows/preview.yml", () => {
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);

    it("runs on pull_request, never pull_request_target, with contents: read for every job but the preview", () => {
      expect(Object.keys(workflow.on)).to.deep.equal(["pull_request"]);
      expect(workflow.permissions).to.deep.equal({ contents: "read" });
      expect(Object.entries(workflow.jobs).filter(([, job]) => job.permissions !== undefined).map(([name, job]) => [name, job.permissions])).to.deep.equal([
        ["preview", { contents: "read", "id-token": "write" }],
      ]);
    });

    it("pins every action by commit and the Pulumi CLI to the version of the project's @pulumi/pulumi", () => {
      const uses = steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses]));
      const pulumi = steps.find((step) => step.uses?.startsWith("pulumi/actions@"));

      expect(uses.filter((action) => !/@[0-9a-f]{40}$/.test(action))).to.deep.equal([]);
      expect(pulumi?.with?.["pulumi-version"]).to.equal(lock.packages["node_modules/@pulumi/pulumi"].version);
    });

    it("tests every pull request on Node.js 22", () => {
      const nodeVersions = steps.filter((step) => step.uses?.startsWith("actions/setup-node@")).map((step) => step.with?.["node-version"]);

      expect(workflow.jobs.test.steps.map((step) => step.run).filter(Boolean)).to.deep.equal(["npm ci", "npm test"]);
      expect(workflow.jobs.test.if).to.equal(undefined);
      expect(nodeVersions).to.deep.equal([22, 22]);
    });

    it("previews only pull requests that get credentials, and says so in a notice on the others", () => {
      const sameRepository = "github.event.pull_request.head.repo.full_name == github.repository";
      const notDependabot = "github.event.pull_request.user.login != 'dependabot[bot]'";
      const skipped = workflow.jobs["preview-skipped"];

      expect(workflow.jobs.preview.if).to.equal(`${sameRepository} && ${notDependabot}`);
      expect(skipped.if).to.equal(`${sameRepository.replace("==", "!=")} || ${notDependabot.replace("!=", "==")}`);
      expect(skipped.steps.map((step) => step.run).join("\n")).to.include("::notice title=pulumi preview skipped::");
      // The pull request's own strings reach the script through the environment, never through an expression.
      expect(skipped.steps.map((step) => step.run ?? "").join("\n")).not.to.include("${{");
    });
  });
});

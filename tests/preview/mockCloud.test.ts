/**
 * The offline engine refuses what the real engine and AWS refuse: a second registration of one URN, and inputs that
 * break AWS's API constraints. Each scenario runs `npm start`'s program on a fixture project in its own process (a
 * refused registration fails the whole run, as it does under `pulumi up`).
 */
import { execFile } from "child_process";
import * as path from "path";

import { expect } from "chai";

import { PROJECT_DIRECTORY } from "../support/engine";

const FIXTURE = path.join(PROJECT_DIRECTORY, "tests", "fixtures", "projects", "offline-engine");

/** `npm start -- --stack <stack>` in the fixture project. */
function preview(stack: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(PROJECT_DIRECTORY, "preview", "main.ts"), "--stack", stack],
      { cwd: FIXTURE, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the offline engine refuses what the real one refuses (preview/mockCloud.ts)", function () {
  this.timeout(120_000);

  let runs: Record<"valid" | "duplicate-urn" | "role-description", { code: number; stdout: string; stderr: string }>;

  before(async () => {
    const [valid, duplicate, description] = await Promise.all([preview("valid"), preview("duplicate-urn"), preview("role-description")]);
    runs = { valid, "duplicate-urn": duplicate, "role-description": description };
  });

  it("previews the valid scenario", () => {
    expect(runs.valid.code, runs.valid.stderr).to.equal(0);
    expect(runs.valid.stdout).to.include("Resources: 6 to create");
  });

  it("fails a run in which two components register a child of the same name, naming both registrations", () => {
    const stack = "urn:pulumi:duplicate-urn::offline-engine-fixture";
    expect(runs["duplicate-urn"].code).to.equal(1);
    expect(runs["duplicate-urn"].stdout).to.equal("");
    expect(runs["duplicate-urn"].stderr).to.equal(
      `error: Duplicate resource URN '${stack}::fixture:index:Notifier$aws:sns/topic:Topic::first-topic': aws:sns/topic:Topic "first-topic" is registered first ` +
        `under ${stack}::pulumi:pulumi:Stack$fixture:index:Notifier::first, again under ${stack}::pulumi:pulumi:Stack$fixture:index:Notifier::second; ` +
        "give each a unique name (child names derive from the parent's name)\n",
    );
  });

  it("fails a run with a role description IAM refuses, naming the resource, property, value and constraint", () => {
    expect(runs["role-description"].code).to.equal(1);
    expect(runs["role-description"].stdout).to.equal("");
    expect(runs["role-description"].stderr).to.equal(
      'error: aws:iam/role:Role "notifier-role" would be refused by AWS: description "ダウンロード通知" does not match AWS\'s pattern ' +
        "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]* (iam CreateRoleRequest.Description, shape roleDescriptionType)\n",
    );
  });
});

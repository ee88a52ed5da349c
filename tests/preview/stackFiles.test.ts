/**
 * Stack names as Pulumi writes them, the project's stack files, and YAML errors that point at the line.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { loadStackFiles, OFFLINE_SECRET_PLACEHOLDER, parseStackName, parseYamlFile, stackNameProblem, stackNames } from "../../preview/stackFiles";
import { loadStackConfig, StackConfigError } from "../../stackConfig";
import { PROJECT_DIRECTORY } from "../support/engine";

/** A copy of the project's Pulumi.yaml and dev stack in a fresh directory, plus `files`. */
function projectWith(files: Record<string, string> = {}): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
  for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml"]) {
    fs.copyFileSync(path.join(PROJECT_DIRECTORY, file), path.join(directory, file));
  }
  for (const [file, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(directory, file), text);
  }
  return directory;
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("stack names", () => {
  it("splits stack, org/stack and org/project/stack; the stack's own name picks the file", () => {
    expect(parseStackName("dev")).to.deep.equal({ stack: "dev" });
    expect(parseStackName("my-org/dev")).to.deep.equal({ organization: "my-org", stack: "dev" });
    expect(parseStackName("my-org/cloudtrail-alerts/dev")).to.deep.equal({ organization: "my-org", project: "cloudtrail-alerts", stack: "dev" });
  });

  it("refuses anything else, naming the value", () => {
    for (const bad of ["", "a/b/c/d", "my org/dev", "my-org//dev", "dev/", "org/dev:prod"]) {
      expect(stackNameProblem(bad), bad).to.equal(
        `--stack must be a stack name such as dev, my-org/dev or my-org/cloudtrail-alerts/dev (letters, digits, '-', '_', '.'), got ${JSON.stringify(bad)}`,
      );
    }
    expect(() => parseStackName("a/b/c/d")).to.throw(StackConfigError, 'got "a/b/c/d"');
  });

  it("loads Pulumi.dev.yaml for dev, my-org/dev and my-org/cloudtrail-alerts/dev alike", () => {
    const plain = loadStackFiles(PROJECT_DIRECTORY, "dev");

    for (const name of ["my-org/dev", "my-org/cloudtrail-alerts/dev"]) {
      const qualified = loadStackFiles(PROJECT_DIRECTORY, name);
      expect(qualified.stack).to.equal("dev");
      expect(qualified.config).to.deep.equal(plain.config);
    }
  });

  it("refuses a qualified name of another project", () => {
    const error = thrown(() => loadStackFiles(PROJECT_DIRECTORY, "my-org/other-project/dev"));

    expect(error).to.be.instanceOf(StackConfigError);
    expect(error.message).to.equal('stack "my-org/other-project/dev" belongs to project other-project, but Pulumi.yaml is project cloudtrail-alerts');
  });

  it("lists the project's stacks from its Pulumi.<stack>.yaml files", () => {
    const directory = projectWith({ "Pulumi.prod.yaml": "config: {}\n", "Pulumi.yml": "", "notes.yaml": "" });

    expect(stackNames(directory)).to.deep.equal(["dev", "prod"]);
  });
});

describe("YAML errors in stack files", () => {
  it("name the stack file, line and column, and show the offending line, on one line", () => {
    const directory = projectWith({
      "Pulumi.broken.yaml": "config:\n  aws:region: ap-northeast-1\n  cloudtrail-alerts:alertEmails:\n    - a@example.com\n  - b@example.com\n",
    });

    const error = thrown(() => loadStackFiles(directory, "broken"));

    expect(error).to.be.instanceOf(StackConfigError);
    expect(error.message).to.equal(
      'Pulumi.broken.yaml:5:1: A block sequence may not be used as an implicit map key; line 5 reads "  - b@example.com"',
    );
  });

  it("name Pulumi.yaml when the project file is broken", () => {
    const directory = projectWith();
    fs.writeFileSync(path.join(directory, "Pulumi.yaml"), "name: cloudtrail-alerts\nconfig:\n  a: [1, 2\n  b: 3\n");

    const error = thrown(() => loadStackFiles(directory, "dev"));

    expect(error.message).to.match(/^Pulumi\.yaml:4:3: Flow sequence in block collection must be sufficiently indented and end with a \]; line 4 reads " {2}b: 3"$/);
    expect(error.message).not.to.include("\n");
  });

  it("leave valid files and other errors alone", () => {
    const directory = projectWith();

    expect(parseYamlFile(path.join(directory, "Pulumi.dev.yaml"))).to.have.property("config");
    expect(() => parseYamlFile(path.join(directory, "missing.yaml"))).to.throw(/ENOENT/);
  });
});

describe("stack files", () => {
  it("hands secrets to the program as secret placeholders, since they cannot be decrypted offline", () => {
    // Prepare
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
    fs.copyFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.yaml"), path.join(directory, "Pulumi.yaml"));
    fs.writeFileSync(path.join(directory, "Pulumi.sec.yaml"), "config:\n  aws:region: ap-northeast-1\n  cloudtrail-alerts:existingTrailLogGroupName:\n    secure: v1:AAAABBBBCCCC\n");

    // Act
    const files = loadStackFiles(directory, "sec");

    // Assess
    expect(files.secretKeys).to.deep.equal(["cloudtrail-alerts:existingTrailLogGroupName"]);
    expect(files.config["cloudtrail-alerts:existingTrailLogGroupName"]).to.equal(OFFLINE_SECRET_PLACEHOLDER);
    expect(files.config["cloudtrail-alerts:timeZone"]).to.equal("UTC");
  });
});

describe("time zones in a stack file", () => {
  for (const zone of ["Asia/Kolkata", "Etc/UTC", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "GMT"]) {
    it(`takes ${zone} as the stack's time zone and a download reset's`, () => {
      // Prepare
      const stack = `config:\n  aws:region: ap-northeast-1\n  cloudtrail-alerts:timeZone: ${zone}\n  cloudtrail-alerts:downloadAlerts:\n    watches:\n      - bucket: reports\n        key: a.pdf\n        threshold: 5\n    reset:\n      schedule: "0 1 * * 1"\n      timeZone: ${zone}\n`;
      const directory = projectWith({ "Pulumi.zones.yaml": stack });
      const { config } = loadStackFiles(directory, "zones");

      // Act
      const loaded = loadStackConfig((key) => config[key], Object.keys(config));

      // Assess
      expect(loaded.timeZone).to.equal(zone);
      expect(loaded.downloadAlerts?.reset?.timeZone).to.equal(zone);
    });
  }
});

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { loadStackFiles, OFFLINE_SECRET_PLACEHOLDER } from "../../preview/stackFiles";
import { PROJECT_DIRECTORY } from "../support/engine";

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

import { expect } from "chai";

import { readBucketCreationAlarm } from "../../stackConfig/bucketCreationAlarm";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:bucketCreationAlarm", () => {
  itRejects([["a flag that is not a boolean", { "cloudtrail-alerts:bucketCreationAlarm": "yes" }, 'cloudtrail-alerts:bucketCreationAlarm must be true or false, got "yes"']]);

  it("is on by default and off when false", () => {
    expect(readBucketCreationAlarm(readerOf())).to.equal(true);
    expect(readBucketCreationAlarm(readerOf({ "cloudtrail-alerts:bucketCreationAlarm": "false" }))).to.equal(false);
  });
});

import { expect } from "chai";

import { readBucketCreationEventNames } from "../../stackConfig/bucketCreationEventNames";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:bucketCreationEventNames", () => {
  itRejects([
    [
      "an event name that is not one",
      { "cloudtrail-alerts:bucketCreationEventNames": '["Create Bucket"]' },
      'cloudtrail-alerts:bucketCreationEventNames[0] must be a CloudTrail event name such as CreateBucket, got "Create Bucket"',
    ],
  ]);

  it("counts CreateBucket by default", () => {
    expect(readBucketCreationEventNames(readerOf())).to.deep.equal(["CreateBucket"]);
  });
});

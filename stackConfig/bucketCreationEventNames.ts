import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:bucketCreationEventNames`: the event names the bucket creation alarm counts (default CreateBucket). */
export function readBucketCreationEventNames(read: ConfigReader): string[] {
  return read.stringArray(`${PROJECT}:bucketCreationEventNames`, {
    fallback: ["CreateBucket"],
    valid: (v) => /^[A-Za-z0-9]+$/.test(v),
    expectation: "a CloudTrail event name such as CreateBucket",
  });
}

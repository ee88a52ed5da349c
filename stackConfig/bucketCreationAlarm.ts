import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:bucketCreationAlarm`: whether the bucket creation alarm is created (default true). */
export function readBucketCreationAlarm(read: ConfigReader): boolean {
  return read.boolean(`${PROJECT}:bucketCreationAlarm`, { fallback: true });
}

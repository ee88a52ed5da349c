import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:existingTrailLogGroupName`: the log group of a trail to adopt; empty (the default) creates a trail. */
export function readExistingTrailLogGroupName(read: ConfigReader): string {
  return read.string(`${PROJECT}:existingTrailLogGroupName`, { fallback: "" });
}

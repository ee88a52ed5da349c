import { shown } from "../functions/shared/values";
import { type ConfigReader, PROJECT, StackConfigError } from "./reader";

/** `cloudtrail-alerts:existingTrailLogGroupName`: the log group of a trail to adopt; empty (the default) creates a trail. */
export function readExistingTrailLogGroupName(read: ConfigReader): string {
  const key = `${PROJECT}:existingTrailLogGroupName`;
  const name = read.string(key, { fallback: "" });
  // The key takes a name; an ARN would be looked up as a (non-existent) group of that name at deployment.
  const arn = /^arn:aws[a-z-]*:logs:[^:]*:\d*:log-group:([^:]+)(:\*)?$/.exec(name);
  if (arn !== null) {
    throw new StackConfigError(key, `${key} must be a log group name, not an ARN, got ${shown(name)}; set it with: pulumi config set ${key} ${arn[1]}`);
  }
  return name;
}

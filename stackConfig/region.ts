import { isRegion } from "../components/validation";
import type { ConfigReader } from "./reader";

/** `aws:region`: where the stack's resources go (required). */
export function readRegion(read: ConfigReader): string {
  return read.string("aws:region", { required: true, valid: isRegion, expectation: "an AWS region such as ap-northeast-1" });
}

/** The partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs of roles that exist before the stack. */
export function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

import { isAccountId } from "../components/validation";
import type { ConfigReader } from "./reader";

/** `aws:allowedAccountIds`: the accounts the AWS provider may deploy to (empty: any). */
export function readAllowedAccountIds(read: ConfigReader): string[] {
  return read.stringArray("aws:allowedAccountIds", { valid: isAccountId, expectation: "a 12-digit AWS account ID" });
}

import { isEmailAddress } from "../components/validation";
import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:alertEmails`: the addresses subscribed to the alert topic (default none). */
export function readAlertEmails(read: ConfigReader): string[] {
  return read.stringArray(`${PROJECT}:alertEmails`, { valid: isEmailAddress, expectation: "an email address" });
}

import { isTimeZone } from "../components/validation";
import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:timeZone`: the IANA time zone alerts show times in (default UTC). */
export function readTimeZone(read: ConfigReader): string {
  return read.string(`${PROJECT}:timeZone`, { fallback: "UTC", valid: isTimeZone, expectation: "an IANA time zone such as Asia/Tokyo" });
}

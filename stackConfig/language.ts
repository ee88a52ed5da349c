import type { Language } from "../functions/shared/readableEvent";
import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:language`: the language of alert bodies (default en). */
export function readLanguage(read: ConfigReader): Language {
  return read.string(`${PROJECT}:language`, { fallback: "en", valid: (v) => v === "ja" || v === "en", expectation: '"ja" or "en"' }) as Language;
}

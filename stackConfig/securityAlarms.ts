import { SECURITY_CONTROL_IDS, type SecurityControlId } from "../functions/shared/securityControls";
import { shown } from "../functions/shared/values";
import { type ConfigReader, PROJECT, StackConfigError } from "./reader";

/**
 * `cloudtrail-alerts:securityAlarms`: the Security Hub CloudWatch controls to deploy metric filters and alarms for,
 * `all` or a list of control IDs (`[CloudWatch.1, CloudWatch.3]`). Undefined (none) by default and for an empty list,
 * so that a stack that does not set it creates nothing new.
 */
export function readSecurityAlarms(read: ConfigReader): "all" | SecurityControlId[] | undefined {
  const key = `${PROJECT}:securityAlarms`;
  const raw = read.string(key, { fallback: "[]" });
  // `all`, or `[all]`: the form component arguments take, since other languages' SDKs have no string-or-list type.
  if (raw === "all" || raw.replace(/\s/g, "") === '["all"]') {
    return "all";
  }
  if (!raw.trim().startsWith("[")) {
    throw new StackConfigError(key, `${key} must be all or a list of Security Hub control IDs such as [CloudWatch.1, CloudWatch.3], got ${shown(raw)}`);
  }
  const ids = read.stringArray(key, {
    fallback: [],
    valid: (id) => (SECURITY_CONTROL_IDS as readonly string[]).includes(id),
    expectation: `a Security Hub control ID (${SECURITY_CONTROL_IDS[0]} to ${SECURITY_CONTROL_IDS[SECURITY_CONTROL_IDS.length - 1]}), or the whole value all`,
  });
  return ids.length === 0 ? undefined : (ids as SecurityControlId[]);
}

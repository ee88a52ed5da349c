import { type ConfigReader, PROJECT } from "./reader";

/** `cloudtrail-alerts:dashboard`: whether the stack's operations dashboard is created (default true). */
export function readDashboard(read: ConfigReader): boolean {
  return read.boolean(`${PROJECT}:dashboard`, { fallback: true });
}

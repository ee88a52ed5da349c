/** Narrowing and rendering of untrusted values, shared by every handler (and by the components' validators). */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** True for a plain JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Renders a received value for an error message: JSON where it can (so strings show their quotes and invisible
 * characters their escapes), `String(value)` otherwise; cut to `maxLength` characters with "..." when longer.
 */
export function shown(value: unknown, maxLength = Number.POSITIVE_INFINITY): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 3))}...` : text;
}

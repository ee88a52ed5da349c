/**
 * Loggers and metric sinks that keep what handlers write, so tests can assert on the structured log lines and the
 * metrics a payload produced.
 */
import type { LogFields, Logger, MetricSink } from "../functions/shared/runtime";

export interface RecordedLog {
  level: "info" | "warn" | "error";
  message: string;
  fields: LogFields;
}

export function recordingLogger(): Logger & { lines: RecordedLog[] } {
  const lines: RecordedLog[] = [];
  const at = (level: RecordedLog["level"]) => (message: string, fields: LogFields = {}) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

/** A metric sink that records each count; `dimensions` only when the handler gave some (besides FunctionName). */
export function recordingMetrics(): MetricSink & { counts: Array<{ name: string; value: number; dimensions?: Record<string, string> }> } {
  const counts: Array<{ name: string; value: number; dimensions?: Record<string, string> }> = [];
  return {
    counts,
    count(name, value, dimensions) {
      counts.push({ name, value, ...(dimensions === undefined ? {} : { dimensions }) });
    },
  };
}

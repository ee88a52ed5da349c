/**
 * Captures what a handler loaded from an archive writes (structured logs through console, EMF metrics through
 * process.stdout.write) while `body` runs, so tests can assert on it and the test report stays readable.
 */
export interface CapturedOutput {
  /** Objects passed to console.info/warn/error. */
  logs: Array<{ level: "info" | "warn" | "error"; entry: unknown }>;
  /** Embedded Metric Format documents written to stdout. */
  metrics: Array<Record<string, unknown>>;
}

export async function captureOutput<T>(body: () => Promise<T>): Promise<{ result: T; output: CapturedOutput }> {
  const output: CapturedOutput = { logs: [], metrics: [] };
  const original = { info: console.info, warn: console.warn, error: console.error, write: process.stdout.write.bind(process.stdout) };
  console.info = (entry: unknown) => output.logs.push({ level: "info", entry });
  console.warn = (entry: unknown) => output.logs.push({ level: "warn", entry });
  console.error = (entry: unknown) => output.logs.push({ level: "error", entry });
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.startsWith('{"_aws":')) {
      output.metrics.push(JSON.parse(text) as Record<string, unknown>);
      return true;
    }
    return original.write(chunk, ...(rest as []));
  });
  try {
    return { result: await body(), output };
  } finally {
    Object.assign(console, { info: original.info, warn: original.warn, error: original.error });
    process.stdout.write = original.write;
  }
}

/**
 * The one way every command of the project ends (`npm start`, `npm run backfill`, `verify`, `demo`, the benchmarks):
 * run `main`, wait until everything written to stdout and stderr has been handed to the operating system, then exit
 * with main's code. `process.exit` right after a large write to a pipe cuts the output (a piped stdout is written
 * asynchronously, 64 KiB at a time), so `npm start -- --json | jq` would read half a document.
 *
 * Any failure (a rejected main, an unhandled rejection, an uncaught exception) prints one line,
 * `error: <first line of the message>`, and exits 1.
 */

/** A command's body: resolves to its exit code (nothing means 0). */
export type Main = () => Promise<number | void> | number | void;

/** Resolves once everything written to `stream` so far has been flushed, or the stream has failed or closed. */
export function flushed(stream: NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean }): Promise<void> {
  if (stream.destroyed === true || stream.writableEnded === true) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    // Writes complete in order: the callback of an empty write runs after every earlier write has been flushed.
    stream.write("", () => resolve());
  });
}

/** The one line a failure prints: the first line of its message. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `error: ${message.split("\n")[0] ?? ""}`;
}

let ending = false;

/** Flushes stdout and stderr, then exits with `code`. Only the first call ends the process. */
export async function exitAfterFlush(code: number): Promise<void> {
  if (ending) {
    return;
  }
  ending = true;
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // Open handles (SDK sockets, fake servers, Pulumi's runtime) would keep the process alive; the output is out.
  process.exit(code);
}

function fail(error: unknown): void {
  if (!ending) {
    process.stderr.write(`${errorLine(error)}\n`);
  }
  void exitAfterFlush(1);
}

/**
 * Runs a command's `main` and ends the process through {@link exitAfterFlush}. A reader that closes stdout early
 * (`| head`) ends the command quietly, as other command-line tools do.
 */
export function runMain(main: Main): void {
  process.on("unhandledRejection", fail);
  process.on("uncaughtException", fail);
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") {
      ending = true;
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    }
    fail(error);
  });
  Promise.resolve()
    .then(main)
    .then((code) => exitAfterFlush(code ?? 0), fail);
}

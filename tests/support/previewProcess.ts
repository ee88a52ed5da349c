/** The offline preview (`npm start`) run in a separate process, as a user's CI runs it. */
import { execFile } from "child_process";

import { PROJECT_DIRECTORY } from "./engine";

/** Runs the offline preview of `stack` with --json, without the caller's AWS credentials. */
export function previewJson(stack: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  for (const variable of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
    delete env[variable];
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "preview/main.ts", "--stack", stack, "--json"],
      { cwd: PROJECT_DIRECTORY, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

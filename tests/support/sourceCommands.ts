/**
 * The AWS SDK commands a handler room's code constructs (`new XxxCommand(`), read from its source files and the
 * shared modules they import, for the tests that hold each room's `calls.ts` to its code.
 */
import * as fs from "fs";
import * as path from "path";

import { PROJECT_DIRECTORY } from "./engine";

/** The commands constructed by `functions/<room>/` (its declaration, calls.ts, left out) and what it imports. */
export function commandsConstructedBy(room: string): string[] {
  const roomDirectory = path.join(PROJECT_DIRECTORY, "functions", room);
  const pending = fs.readdirSync(roomDirectory).filter((f) => f.endsWith(".ts") && f !== "calls.ts").map((f) => path.join(roomDirectory, f));
  const read = new Set<string>();
  const commands = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (read.has(file)) continue;
    read.add(file);
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(/\bnew (\w+Command)\(/g)) commands.add(match[1]);
    for (const match of text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
      const imported = path.resolve(path.dirname(file), `${match[1]}.ts`);
      if (fs.existsSync(imported) && path.basename(imported) !== "awsCalls.ts") pending.push(imported);
    }
  }
  return [...commands].sort();
}

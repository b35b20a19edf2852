/** @module The compiled pvrlink binary the end-to-end and NAT tests run; missing is an error, never a skip. */
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");

/**
 * dist/pvrlink-linux-x64 (npm test builds it), or $PVRLINK_BIN. `who` names the tests in the error, e.g.
 * "End-to-end tests".
 */
export function compiledBinary(who: string): string {
  const path = process.env.PVRLINK_BIN ?? join(ROOT, "dist/pvrlink-linux-x64");
  if (!existsSync(path)) {
    throw new Error(
      `${who} need the compiled binary ${path}: run 'bun scripts/build.ts x64' (or 'npm test') first`,
    );
  }
  return path;
}

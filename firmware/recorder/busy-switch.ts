/** @module The operator's "do not disturb" switch (`pvrlink recorder busy on|off`), a file in the data dir. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../files/atomic-json-file.ts";

export const BUSY_SWITCH_FILE = "busy";

/**
 * A file rather than a message to the daemon: it works whether or not the daemon runs, survives a restart
 * (an operator who said "busy" means it until they say otherwise), and the daemon reads it on every STATUS.
 */
export class BusySwitch {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, BUSY_SWITCH_FILE);
  }

  get on(): boolean {
    return existsSync(this.path);
  }

  set(on: boolean): void {
    if (on) writeJsonAtomic(this.path, { since: Date.now() }, 0o644);
    else rmSync(this.path, { force: true });
  }
}

/** @module The `--json` summary line of a `pvrlink send` run, as the tests read it. */
import type { SendResult } from "../../firmware/send/send-result.ts";

/** The last `"event":"summary"` line of the output; throws with the output's tail when there is none. */
export function summaryOf(stdout: string): SendResult {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.includes('"event":"summary"'));
  if (!line) throw new Error(`send printed no summary:\n${stdout.slice(-2000)}`);
  return JSON.parse(line) as SendResult;
}

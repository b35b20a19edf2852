/** @module The `pvrlink recorder enroll` command line and the steady load view that scripted runs give recorders. */

/**
 * A /proc/stat that never changes: no CPU share can be computed from it, so the load monitor sees no CPU load.
 * On a shared box another job's load would make a callee busy at random; scripted runs use the busy switch.
 */
export const STEADY_STAT = "cpu  1000 0 1000 100000 0 0 0 0 0 0\ncpu0 1000 0 1000 100000 0 0 0 0 0 0\n";

export interface EnrollTarget {
  /** The node's HTTP base URL. */
  node: string;
  /** The node's UDP endpoint, "host:port". */
  udp: string;
  /** A one-time enrollment token from the operator. */
  token: string;
  /** The node certificate's pin that came with the token. */
  pin?: string;
  name: string;
  dataDir: string;
}

/** `recorder enroll ...`: what a user runs once to join a node (the program's own argv prefix goes first). */
export function recorderEnrollArgs(t: EnrollTarget): string[] {
  return [
    "recorder",
    "enroll",
    "--node",
    t.node,
    "--udp",
    t.udp,
    "--token",
    t.token,
    ...(t.pin === undefined ? [] : ["--pin", t.pin]),
    "--name",
    t.name,
    "--data",
    t.dataDir,
  ];
}

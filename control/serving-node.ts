/** @module The node serving a data directory, as its files there say: node.json (addresses, pin) and the pid lock. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { livePid } from "../cli/pid-lock.ts";

/** The file a serving node writes into its data directory so enroll and stop find it. */
export const NODE_FILE = "node.json";
/** The serving node's pid lock: one node per data directory. */
export const LOCK_FILE = "control.pid";
/** Where a detached node (`serve --detach`) writes its log. */
export const LOG_FILE = "control.log";

export interface ServingNode {
  pid: number;
  http: string;
  udp: string;
  url: string;
  publicUdp: string;
  /** The certificate pin recorders check; absent behind --insecure-http or with a CA-issued certificate. */
  pin?: string;
}

/** The node serving this data directory, when its process still runs. */
export function servingNode(data: string): ServingNode | undefined {
  try {
    const n = JSON.parse(readFileSync(join(data, NODE_FILE), "utf8")) as ServingNode;
    return livePid(join(data, LOCK_FILE)) === n.pid ? n : undefined;
  } catch {
    return undefined;
  }
}

/** @module The daemon's state for `pvrlink recorder status`: one JSON file in the data dir, replaced atomically. */
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";
import type { FailedPickup } from "./inbox-pickup.ts";
import type { ActiveTransfer } from "./recording-receiver.ts";

export const STATUS_FILE = "recorder-status.json";

export interface RecorderStatus {
  pid: number;
  device: string;
  name: string;
  startedAt: number;
  updatedAt: number;
  node: { url: string; udp: string };
  /** "host:port" the direct listener is bound to. */
  direct: string;
  /** Local port of the keepalive/trigger UDP socket. */
  udpPort: number;
  /** What the node has: the last successful PUT /v1/registration. */
  registered: { address: string; port: number; at: number } | null;
  registerError: string | null;
  /** The public mapping from the last authenticated keepalive answer (XOR-MAPPED-ADDRESS). */
  mapped: string | null;
  lastKeepaliveAt: number | null;
  lastAnswerAt: number | null;
  keepaliveIntervalSec: number;
  /** True while answers come; false after missLimit unanswered keepalives. */
  nodeReachable: boolean;
  transfers: ActiveTransfer[];
  inbox: { pending: number; waitingForLoad: boolean; failed: FailedPickup[] };
  triggers: { accepted: number; duplicates: number; rejected: number };
  /** Set by the daemon on an orderly stop. */
  stoppedAt?: number;
}

export function statusPath(dataDir: string): string {
  return join(dataDir, STATUS_FILE);
}

/** Written on every change (0644: it holds no secret, and status may run as another user). */
export function writeStatus(dataDir: string, s: RecorderStatus): void {
  writeJsonAtomic(statusPath(dataDir), s, 0o644);
}

export function readStatus(dataDir: string): RecorderStatus | undefined {
  return readJsonFile(statusPath(dataDir)) as RecorderStatus | undefined;
}

/** Whether the daemon that wrote the file still runs (signal 0 checks existence without touching it). */
export function daemonAlive(s: RecorderStatus): boolean {
  if (s.stoppedAt !== undefined) return false;
  try {
    process.kill(s.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** @module The end-to-end stage: the compiled binary, a cluster with recorders alice and bob, sends from alice, library listings. */
import { stat } from "node:fs/promises";
import type { RunResult } from "../../demo/child-process.ts";
import { Cluster, type ClusterOptions } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { compiledBinary } from "./compiled-binary.ts";

/** The binary under test (test/support/compiled-binary.ts). */
export const binary = (): string => compiledBinary("End-to-end tests");

export function startCluster(o: Omit<ClusterOptions, "command"> = {}): Promise<Cluster> {
  return Cluster.start({
    command: [binary()],
    ...(process.env.PVRLINK_E2E_VERBOSE
      ? { echo: (l: string, s: string) => console.error(`[${l}] ${s}`) }
      : {}),
    ...o,
  });
}

/** A cluster with recorders alice and bob, bob permitting alice: the stage most end-to-end tests start from. */
export async function startAliceAndBob(
  o: Omit<ClusterOptions, "command"> & { bobLoadDir?: (c: Cluster) => Promise<string> } = {},
): Promise<Cluster> {
  const { bobLoadDir, ...clusterOptions } = o;
  const cluster = await startCluster(clusterOptions);
  try {
    await cluster.addRecorder("alice");
    await cluster.addRecorder("bob", bobLoadDir ? { loadDir: await bobLoadDir(cluster) } : {});
    await cluster.permit("bob", "alice");
    return cluster;
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
}

/** `pvrlink send FILE --to bob --json FLAGS...` run by alice: how most end-to-end tests send. */
export function sendToBob(cluster: Cluster, file: string, flags: string[] = []): Promise<RunResult> {
  return cluster.recorderRun("alice", ["send", file, "--to", "bob", "--json", ...flags]);
}

/** A file's size in bytes. */
export async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** One entry of `pvrlink library list --json`. */
export interface LibraryEntry {
  id: string;
  name: string;
  sha256: string;
  size: number;
  secret: boolean;
  sender: string | null;
  path: string;
}

/** A recorder's library, as `pvrlink library list --json --data DIR` lists it. */
export async function libraryOf(cluster: Cluster, name: string): Promise<LibraryEntry[]> {
  return JSON.parse(
    await cluster.ok(["library", "list", "--json", "--data", cluster.recorder(name).dataDir]),
  );
}

/**
 * The entry `name` filed with this SHA-256 (and from `sender`, when given), once it is there: a send can end
 * before the receiver files (a relayed part is fetched from the node after the sender's upload completes).
 */
export function filedEntry(
  cluster: Cluster,
  name: string,
  o: { sha256: string; sender?: string; timeoutMs?: number },
): Promise<LibraryEntry> {
  return waitFor(
    `${name} to file ${o.sha256.slice(0, 12)}`,
    async () =>
      (await libraryOf(cluster, name)).find(
        (r) => r.sha256 === o.sha256 && (o.sender === undefined || r.sender === o.sender),
      ),
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 200 },
  );
}

/** @module Administers network namespaces: create, configure (ip, nft, sysctl), and remove them with their processes. */

import { exec } from "./run-in.ts";

/** Every namespace the bed makes is named `${NS_PREFIX}${pid}-${random}-${role}`, so a crashed run is recognisable. */
export const NS_PREFIX = "pvrnet-";

/** Thrown when this machine cannot host the bed (not root, no iproute2/nftables, namespaces refused). */
export class NetBedUnavailableError extends Error {
  readonly code = "ERR_NETBED_UNAVAILABLE";
  override name = "NetBedUnavailableError";
}

/** Runs `ip -n NS` with one command per line of `commands` (iproute2 batch mode: one process, not one per line). */
export async function ipBatch(ns: string, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  await exec(["ip", "-n", ns, "-batch", "-"], `${commands.join("\n")}\n`);
}

/** Loads an nft script inside `ns`. */
export async function nft(ns: string, script: string): Promise<void> {
  await exec(["ip", "netns", "exec", ns, "nft", "-f", "-"], script);
}

/**
 * Sets sysctls inside `ns` by writing /proc/sys directly (per-namespace for net.*), so the procps `sysctl`
 * binary is not required. Keys are dotted sysctl names; interface names must not contain dots.
 */
export async function sysctl(ns: string, values: Record<string, string | number>): Promise<void> {
  const script = Object.entries(values)
    .map(([key, v]) => {
      if (!/^[a-z0-9_.-]+$/i.test(key) || !/^[0-9a-z_ -]+$/i.test(String(v))) {
        throw new RangeError(`Cannot set sysctl ${key}=${v}: unexpected characters`);
      }
      return `echo '${v}' > /proc/sys/${key.replaceAll(".", "/")}`;
    })
    .join(" && ");
  await exec(["ip", "netns", "exec", ns, "sh", "-ec", script]);
}

/** Reads a file as seen from inside `ns` (for /proc/net/*, which is per namespace). */
export async function readInNs(ns: string, path: string): Promise<string> {
  return await exec(["ip", "netns", "exec", ns, "cat", path]);
}

export async function listNamespaces(): Promise<string[]> {
  const out = await exec(["ip", "netns", "list"]);
  // Lines look like "name" or "name (id: 3)".
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n !== "");
}

/** Kills every process inside `ns` (SIGKILL: the bed's own processes were already asked politely) and removes it. */
export async function deleteNamespace(ns: string): Promise<void> {
  try {
    const pids = (await exec(["ip", "netns", "pids", ns])).split("\n").filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone between listing and killing.
      }
    }
  } catch {
    // The namespace may already be half-removed; deleting it below is what matters.
  }
  await exec(["ip", "netns", "del", ns]);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces of this prefix whose creating process is gone (a crashed or killed earlier run). */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(ns);
    if (!m || pidAlive(Number(m[1]))) continue;
    await deleteNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

/**
 * Checks that this machine can host the bed; throws NetBedUnavailableError with ONE line that says why.
 * The tests call this instead of skipping, so a CI run without root fails loudly.
 */
export async function preflight(): Promise<void> {
  const why = (reason: string) =>
    new NetBedUnavailableError(
      `NET BED UNAVAILABLE: ${reason}; test/net needs root with iproute2 and nftables`,
    );
  if (process.getuid?.() !== 0) throw why(`running as uid ${process.getuid?.()}, not root`);
  for (const tool of ["ip", "nft"]) {
    if (Bun.which(tool, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) === null)
      throw why(`"${tool}" not found`);
  }
  const probe = `${NS_PREFIX}${process.pid}-preflight`;
  try {
    await exec(["ip", "netns", "add", probe]);
  } catch (e) {
    throw why(`"ip netns add" failed (${(e as Error).message.split("\n")[0]})`);
  }
  await exec(["ip", "netns", "del", probe]);
}

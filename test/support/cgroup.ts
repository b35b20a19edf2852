/** @module For tests: a cgroup v2 group with a memory limit and no swap, programs run inside it, and its memory.events and memory.peak read back. */
import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RunResult, runToEnd } from "../../demo/child-process.ts";

/** Where the unified (v2) hierarchy is mounted on a system that runs it alone (Debian 11 and later, systemd). */
export const CGROUP_V2_ROOT = "/sys/fs/cgroup";

/**
 * Counters of memory.events (Documentation/admin-guide/cgroup-v2.rst, "memory.events"): times the group hit
 * memory.high, memory.max, ran out of memory, and processes the OOM killer killed in it.
 */
export interface MemoryEvents {
  low: number;
  high: number;
  max: number;
  oom: number;
  oom_kill: number;
  /** Kernel 5.17 and later. */
  oom_group_kill?: number;
}

const REQUIRED_EVENTS = ["low", "high", "max", "oom", "oom_kill"] as const;

/** Parses memory.events ("key value" lines); a missing counter, a bad number or a stray line is a SyntaxError. */
export function parseMemoryEvents(text: string): MemoryEvents {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^([a-z_]+) (\d+)$/.exec(line);
    if (!m)
      throw new SyntaxError(`Cannot parse memory.events: line ${JSON.stringify(line)} is not "key count"`);
    out[m[1] as string] = Number(m[2]);
  }
  for (const k of REQUIRED_EVENTS)
    if (out[k] === undefined) throw new SyntaxError(`Cannot parse memory.events: no '${k}' counter`);
  return out as unknown as MemoryEvents;
}

/**
 * The v2 root, with the memory controller available to its children. A kernel that keeps memory on a v1
 * hierarchy (a hybrid mount, as in some containers) cannot run these tests: that is a loud error, never a skip.
 */
export async function cgroupV2Root(root = CGROUP_V2_ROOT): Promise<string> {
  const controllers = join(root, "cgroup.controllers");
  const have = existsSync(controllers) ? readFileSync(controllers, "utf8").split(/\s+/) : [];
  if (!have.includes("memory")) {
    throw new Error(
      `Cannot run the cgroup tests: ${root} is not a cgroup v2 root with the memory controller (${existsSync(controllers) ? `controllers: ${have.join(" ") || "none"}` : "no cgroup.controllers: cgroup v1 or hybrid"}); they need a unified hierarchy and root`,
    );
  }
  const subtree = join(root, "cgroup.subtree_control");
  // The root is exempt from "no internal processes", so it can hand the memory controller to its children.
  if (!readFileSync(subtree, "utf8").split(/\s+/).includes("memory")) await appendFile(subtree, "+memory");
  return root;
}

export interface MemoryCgroupOptions {
  /** memory.max in bytes: past it the kernel reclaims, then OOM-kills inside the group. */
  memoryMax: number;
  /** memory.swap.max in bytes; 0 (default) so a limit cannot be dodged by swapping. */
  swapMax?: number;
}

/** One cgroup v2 group under the v2 root, removed (its processes killed) on dispose. */
export class MemoryCgroup implements AsyncDisposable {
  private constructor(readonly path: string) {}

  /** Creates `pvrlink-NAME-<random>` with the limits; run programs in it with command() or run(). */
  static async create(name: string, o: MemoryCgroupOptions): Promise<MemoryCgroup> {
    const root = await cgroupV2Root();
    const path = join(root, `pvrlink-${name}-${crypto.randomUUID().slice(0, 8)}`);
    await mkdir(path);
    const group = new MemoryCgroup(path);
    try {
      await writeFile(join(path, "memory.max"), String(o.memoryMax));
      await writeFile(join(path, "memory.swap.max"), String(o.swapMax ?? 0));
      return group;
    } catch (err) {
      await group[Symbol.asyncDispose]();
      throw err;
    }
  }

  /**
   * The argv that runs ARGV inside the group: a shell moves itself into the group, then execs the program, so
   * the program and all it starts are counted from their first byte. Fits Cluster's per-recorder `command`.
   */
  command(argv: string[]): string[] {
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.path, ...argv];
  }

  run(argv: string[], env?: Record<string, string>): Promise<RunResult> {
    return runToEnd(this.command(argv), env);
  }

  async events(): Promise<MemoryEvents> {
    return parseMemoryEvents(await readFile(join(this.path, "memory.events"), "utf8"));
  }

  /** The group's peak memory use in bytes (memory.peak, kernel 5.19 and later): every process in it, together. */
  async peak(): Promise<number> {
    const file = join(this.path, "memory.peak");
    if (!existsSync(file))
      throw new Error(`Cannot read ${file}: this kernel has no memory.peak (before 5.19)`);
    return Number((await readFile(file, "utf8")).trim());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!existsSync(this.path)) return;
    const procs = async () =>
      (await readFile(join(this.path, "cgroup.procs"), "utf8")).split("\n").filter((l) => l !== "");
    if (existsSync(join(this.path, "cgroup.kill"))) await writeFile(join(this.path, "cgroup.kill"), "1");
    else for (const pid of await procs()) process.kill(Number(pid), "SIGKILL");
    // A group can only be removed once empty; killed processes leave it as they are reaped.
    const end = Date.now() + 5000;
    while ((await procs()).length > 0) {
      if (Date.now() > end) throw new Error(`Cannot remove ${this.path}: processes are still in it`);
      await Bun.sleep(20);
    }
    await rmdir(this.path);
  }
}

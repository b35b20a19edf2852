/** @module For tests: a memory cgroup (v2, or v1 where the kernel keeps memory there) with a limit and no swap, programs run inside it, and its OOM kills and peak read back. */
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

/** Counters of a v1 group's memory.oom_control ("key value" lines; oom_kill since Linux 4.13). */
export function parseOomControl(text: string): { under_oom: number; oom_kill: number } {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^([a-z_]+) (\d+)$/.exec(line);
    if (!m)
      throw new SyntaxError(
        `Cannot parse memory.oom_control: line ${JSON.stringify(line)} is not "key count"`,
      );
    out[m[1] as string] = Number(m[2]);
  }
  for (const k of ["under_oom", "oom_kill"] as const)
    if (out[k] === undefined) throw new SyntaxError(`Cannot parse memory.oom_control: no '${k}' counter`);
  return { under_oom: out.under_oom as number, oom_kill: out.oom_kill as number };
}

/**
 * Where this process's v1 memory group lives, from /proc/self/cgroup ("N:memory:/path") and the v1 memory
 * hierarchy's mount point in /proc/self/mountinfo; undefined when memory is not on a v1 hierarchy. Groups
 * are made below our own, so a sandbox that puts us in a group of its own still allows them.
 */
export function cgroupV1MemoryDir(
  procCgroup = readFileSync("/proc/self/cgroup", "utf8"),
  mountinfo = readFileSync("/proc/self/mountinfo", "utf8"),
): string | undefined {
  const own = procCgroup
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f[1]?.split(",").includes("memory"));
  if (!own) return undefined;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const [fstype, , options] = right.split(" ");
    if (fstype !== "cgroup" || !options?.split(",").includes("memory")) continue;
    const fields = left.split(" ");
    const mountRoot = fields[3] ?? "/";
    const mountPoint = fields[4] ?? "";
    const rel = (own[2] ?? "/").startsWith(mountRoot)
      ? (own[2] ?? "/").slice(mountRoot.length)
      : (own[2] ?? "/");
    return join(mountPoint, rel);
  }
  return undefined;
}

/** The files of a group's memory controller, by hierarchy version. */
interface MemoryFiles {
  version: 1 | 2;
  limit: string;
  /** v2: swap alone; v1: memory plus swap (so equal to limit means no swap). */
  swapLimit: string;
  peak: string;
}

const V2_FILES: MemoryFiles = {
  version: 2,
  limit: "memory.max",
  swapLimit: "memory.swap.max",
  peak: "memory.peak",
};
const V1_FILES: MemoryFiles = {
  version: 1,
  limit: "memory.limit_in_bytes",
  swapLimit: "memory.memsw.limit_in_bytes",
  peak: "memory.max_usage_in_bytes",
};

/** Where to make groups: the v2 root with the memory controller, else our own v1 memory group. */
async function memoryParent(): Promise<{ dir: string; files: MemoryFiles }> {
  const controllers = join(CGROUP_V2_ROOT, "cgroup.controllers");
  if (existsSync(controllers) && readFileSync(controllers, "utf8").split(/\s+/).includes("memory"))
    return { dir: await cgroupV2Root(), files: V2_FILES };
  const v1 = cgroupV1MemoryDir();
  if (v1 && existsSync(join(v1, "memory.limit_in_bytes"))) return { dir: v1, files: V1_FILES };
  return { dir: await cgroupV2Root(), files: V2_FILES }; // throws, naming what is missing
}

export interface MemoryCgroupOptions {
  /** memory.max in bytes: past it the kernel reclaims, then OOM-kills inside the group. */
  memoryMax: number;
  /** memory.swap.max in bytes; 0 (default) so a limit cannot be dodged by swapping. */
  swapMax?: number;
}

/** One memory group (v2 under the v2 root, or v1 below our own group), removed (its processes killed) on dispose. */
export class MemoryCgroup implements AsyncDisposable {
  readonly path: string;
  readonly #files: MemoryFiles;
  // A private constructor: groups are made by create(), which writes the limits (JavaScript has no #constructor).
  private constructor(path: string, files: MemoryFiles) {
    this.path = path;
    this.#files = files;
  }

  /** Creates `pvrlink-NAME-<random>` with the limits; run programs in it with command() or run(). */
  static async create(name: string, o: MemoryCgroupOptions): Promise<MemoryCgroup> {
    const { dir, files } = await memoryParent();
    const path = join(dir, `pvrlink-${name}-${crypto.randomUUID().slice(0, 8)}`);
    await mkdir(path);
    const group = new MemoryCgroup(path, files);
    try {
      await writeFile(join(path, files.limit), String(o.memoryMax));
      // v1's memsw limit counts memory and swap together: equal to the memory limit means no swap.
      const swap = files.version === 2 ? (o.swapMax ?? 0) : o.memoryMax + (o.swapMax ?? 0);
      if (files.version === 2 || existsSync(join(path, files.swapLimit)))
        await writeFile(join(path, files.swapLimit), String(swap));
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

  /** The group's memory events; on v1, from memory.failcnt (limit hits) and memory.oom_control. */
  async events(): Promise<MemoryEvents> {
    if (this.#files.version === 2)
      return parseMemoryEvents(await readFile(join(this.path, "memory.events"), "utf8"));
    const oom = parseOomControl(await readFile(join(this.path, "memory.oom_control"), "utf8"));
    const failcnt = Number((await readFile(join(this.path, "memory.failcnt"), "utf8")).trim());
    return { low: 0, high: 0, max: failcnt, oom: oom.oom_kill + oom.under_oom, oom_kill: oom.oom_kill };
  }

  /** The group's peak memory use in bytes (v2 memory.peak, 5.19+; v1 memory.max_usage_in_bytes): all its processes. */
  async peak(): Promise<number> {
    const file = join(this.path, this.#files.peak);
    if (!existsSync(file)) throw new Error(`Cannot read ${file}: this kernel does not report a group's peak`);
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

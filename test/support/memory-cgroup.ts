/** @module MemoryCgroup: a memory-limited control group for a test's processes (cgroup v2, or the v1 memory controller where v2 has none), with its OOM-kill count. */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";

/** Where the hierarchies are mounted (cgroups(7)): pure v2 at the root, a hybrid system's v2 under unified/. */
const CGROUP_ROOT = "/sys/fs/cgroup";
const V1_MEMORY = join(CGROUP_ROOT, "memory");

type Version = "v2" | "v1";

/** The mount whose memory controller can limit a new group: v2 when it has the controller, else v1's. */
function memoryHierarchy(): { version: Version; base: string } {
  for (const base of [CGROUP_ROOT, join(CGROUP_ROOT, "unified")]) {
    const controllers = join(base, "cgroup.controllers");
    if (existsSync(controllers) && readFileSync(controllers, "utf8").split(/\s+/).includes("memory"))
      return { version: "v2", base };
  }
  if (existsSync(join(V1_MEMORY, "memory.limit_in_bytes"))) return { version: "v1", base: V1_MEMORY };
  throw new Error(
    "Cannot create a memory cgroup: no cgroup v2 hierarchy with the memory controller and no v1 memory mount",
  );
}

/**
 * One group under the hierarchy's root (the tests run as root, as CI does): memory.max and memory.swap.max 0
 * on v2, memory.limit_in_bytes and memory.memsw.limit_in_bytes (the same value: no swap) on v1. A process is
 * put in it from its first instruction by `wrap()`, a shell prefix that joins the group and then execs.
 */
export class MemoryCgroup implements AsyncDisposable {
  private constructor(
    readonly path: string,
    readonly version: Version,
    readonly limitBytes: number,
  ) {}

  static async create(label: string, limitBytes: number): Promise<MemoryCgroup> {
    const { version, base } = memoryHierarchy();
    if (version === "v2") {
      // Children of the root get the controller only when the root hands it down.
      const subtree = join(base, "cgroup.subtree_control");
      if (!(await readFile(subtree, "utf8")).split(/\s+/).includes("memory"))
        await writeFile(subtree, "+memory");
    }
    const path = join(base, `pvrlink-test-${label}-${randomToken(6)}`);
    await mkdir(path);
    const group = new MemoryCgroup(path, version, limitBytes);
    try {
      if (version === "v2") {
        await writeFile(join(path, "memory.max"), String(limitBytes));
        if (existsSync(join(path, "memory.swap.max"))) await writeFile(join(path, "memory.swap.max"), "0");
      } else {
        await writeFile(join(path, "memory.limit_in_bytes"), String(limitBytes));
        const memsw = join(path, "memory.memsw.limit_in_bytes");
        if (existsSync(memsw)) await writeFile(memsw, String(limitBytes));
      }
    } catch (err) {
      await rmdir(path).catch(() => {});
      throw err;
    }
    return group;
  }

  /** A command prefix that moves the shell into this group, then execs the rest of the argv in its place. */
  wrap(): string[] {
    return ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh", join(this.path, "cgroup.procs")];
  }

  /** Processes the kernel's OOM killer ended in this group (v2 memory.events, v1 memory.oom_control). */
  async oomKills(): Promise<number> {
    const file = this.version === "v2" ? "memory.events" : "memory.oom_control";
    const m = /^oom_kill (\d+)$/m.exec(await readFile(join(this.path, file), "utf8"));
    if (!m) throw new Error(`Cannot read oom_kill from ${join(this.path, file)}`);
    return Number(m[1]);
  }

  /** Times the group hit its limit (v2 memory.events max, v1 memory.failcnt): reclaim, not necessarily a kill. */
  async limitHits(): Promise<number> {
    if (this.version === "v1")
      return Number((await readFile(join(this.path, "memory.failcnt"), "utf8")).trim());
    const m = /^max (\d+)$/m.exec(await readFile(join(this.path, "memory.events"), "utf8"));
    return Number(m?.[1] ?? 0);
  }

  /** The most the group was charged (v2 memory.peak, v1 memory.max_usage_in_bytes); 0 where the kernel has no such file. */
  async peakBytes(): Promise<number> {
    const file = join(this.path, this.version === "v2" ? "memory.peak" : "memory.max_usage_in_bytes");
    return existsSync(file) ? Number((await readFile(file, "utf8")).trim()) : 0;
  }

  /** Removes the group once its processes have exited (waits a little for the kernel to let go of them). */
  async [Symbol.asyncDispose](): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await rmdir(this.path);
        return;
      } catch (err) {
        if (i >= 50) throw err;
        await Bun.sleep(100);
      }
    }
  }
}

/** @module Attack (issue 21 item 2), real node process: a 100 MiB upload onto a 48 MiB spool disk, then a node on a full disk and restarted on it. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { outcomeOf } from "../support/api-outcome.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";

const MiB = 1024 * 1024;
const CONFIG = {
  relayQuotaBytes: 1024 * MiB,
  relayThresholdBytes: 1024 * MiB,
  spoolReserveBytes: 8 * MiB,
  rateLimitPerSec: 500,
  rateLimitBurst: 1000,
  // Room for the allow-list writes that grow the database until the full disk refuses one.
  maxListEntries: 100_000,
};

/** Mounts a 48 MiB tmpfs (the attack's disk) when this process may; null otherwise. */
function mountTmpfs(): string | null {
  if (process.getuid?.() !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-full-disk-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", dir]);
  if (r.exitCode === 0) return dir;
  rmSync(dir, { recursive: true, force: true });
  return null;
}

/** Fills the filesystem holding dir to the last block, as another program on the box would. */
function fillDisk(dir: string): void {
  const fd = openSync(join(dir, "filler"), "w");
  try {
    for (const size of [MiB, 64 * 1024, 4096, 512, 1]) {
      const chunk = new Uint8Array(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface Stage {
  node: NodeProcess;
  alice: ControlClient;
  aliceCred: { id: string; secret: string };
  bobCred: { id: string; secret: string };
  sessionId: string;
}

/** alice and bob enrolled, bob permits alice and is connected; alice holds a live session to bob. */
async function stage(node: NodeProcess, agents: DeviceAgent[]): Promise<Stage> {
  const a = await node.enroll("alice");
  const b = await node.enroll("bob");
  const bob = node.client(b);
  await bob.updateAllowList({ create: ["alice"] });
  await bob.register("127.0.0.1", 9);
  const agent = await DeviceAgent.start(b, node.udp);
  agents.push(agent);
  await agent.keepalive();
  const alice = node.client(a);
  const q = await alice.query("bob");
  if (q.status !== 200) throw new Error("expected a live session");
  return { node, alice, aliceCred: a, bobCred: b, sessionId: q.session.id };
}

const mount = mountTmpfs();
const agents: DeviceAgent[] = [];

afterAll(async () => {
  for (const a of agents) await a[Symbol.asyncDispose]();
  if (mount) {
    Bun.spawnSync(["umount", mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

describe.skipIf(mount === null)("full spool disk (48 MiB tmpfs; needs root to mount)", () => {
  let s: Stage;
  beforeAll(async () => {
    s = await stage(await startNode({ dataDir: mount!, keepData: true, config: CONFIG }), agents);
  });
  afterAll(async () => {
    await s?.node.stop();
  });

  test("a 100 MiB transfer on a 48 MiB disk is 507 insufficient_storage before a byte is written", async () => {
    const r = await outcomeOf(
      s.alice.createTransfer({ session: s.sessionId, size: 100 * MiB, kind: "relay" }),
    );
    expect(r).toBe("507 insufficient_storage");
  });

  test("a transfer that fits is stored; one that would eat into the database's reserve is refused", async () => {
    const { transfer } = await s.alice.createTransfer({
      session: s.sessionId,
      size: 20 * MiB,
      kind: "relay",
    });
    expect(await s.alice.uploadData(transfer.id, 0, new Uint8Array(20 * MiB))).toEqual({
      received: 20 * MiB,
    });
    const r = await outcomeOf(
      s.alice.createTransfer({ session: s.sessionId, size: 20 * MiB, kind: "relay" }),
    );
    expect(r).toBe("507 insufficient_storage");
  });

  test("on a disk filled by someone else the node stays up, serves signed reads and keepalives, and refuses writes with 507", async () => {
    fillDisk(mount!);
    expect((await s.alice.allowList()).policy).toBe("node");
    expect(await outcomeOf(s.alice.createTransfer({ session: s.sessionId, size: 1, kind: "relay" }))).toBe(
      "507 insufficient_storage",
    );
    // A write that fits in space the files already hold is no harm and goes through: a serving node's WAL is
    // checkpointed on its own thread and started over, so a small write reuses its pages. Writes that grow the
    // database (new allow-list rows) soon need new blocks: each is stored or refused with 507, never anything
    // else, and the disk runs out within a bounded number of them.
    const outcomes: string[] = [];
    for (let i = 0; i < 300 && outcomes.at(-1) !== "507 insufficient_storage"; i++) {
      const names = Array.from(
        { length: 200 },
        (_, k) => `${String(i).padStart(3, "0")}-${k}-${"x".repeat(50)}`,
      );
      outcomes.push(await outcomeOf(s.alice.updateAllowList({ add: names })));
    }
    expect(outcomes.at(-1)).toBe("507 insufficient_storage");
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(outcomes.length > 1 ? ["ok"] : []));
    // The keepalive write-behind fails on the full disk at its next flush; the process must live through it.
    // From a new socket, so the mapping changed (as after a NAT rebinding) and the next flush writes it: an
    // unchanged mapping is written back only once its stored time is two intervals old.
    // A flush small enough for the WAL's slack (the pages a refused write left behind) is stored; each changed
    // mapping writes more, so within a few rebinds one needs new blocks and fails.
    const flushFailed = () => s.node.stderr().includes("keepalive flush failed");
    for (let i = 0; i < 30 && !flushFailed(); i++) {
      const rebound = await DeviceAgent.start(s.bobCred, s.node.udp);
      agents.push(rebound);
      await rebound.keepalive();
      await waitFor("a flush failed", flushFailed, { timeoutMs: 1500 }).catch(() => undefined);
    }
    expect(flushFailed()).toBe(true);
    expect(s.node.proc.exitCode).toBeNull();
    expect((await s.alice.session(s.sessionId)).state).toBe("active");
  }, 90_000);

  test("restarted on the full disk, the node starts and answers signed reads", async () => {
    await s.node.stop("SIGKILL");
    s.node = await startNode({ dataDir: mount!, keepData: true, config: CONFIG });
    const alice = s.node.client(s.aliceCred);
    expect((await alice.allowList()).policy).toBe("node");
    expect((await alice.session(s.sessionId)).state).toBe("active");
  });
});

test("the node-wide spool cap refuses a transfer with 507 spool_full though each sender is under its quota", async () => {
  await using node = await startNode({
    config: { ...CONFIG, spoolReserveBytes: 0, relayQuotaBytes: 2 * MiB, spoolCapBytes: 3 * MiB },
  });
  const s = await stage(node, agents);
  const carol = node.client(await node.enroll("carol"));
  const bob = node.client(s.bobCred);
  await bob.updateAllowList({ add: ["carol"] });
  const q = await carol.query("bob");
  if (q.status !== 200) throw new Error(`Cannot stage carol's session: query answered ${JSON.stringify(q)}`);
  // The three outcomes in order and in one comparison, so a failure shows every step's answer.
  const outcomes = {
    alice2MiB: await outcomeOf(
      s.alice.createTransfer({ session: s.sessionId, size: 2 * MiB, kind: "relay" }),
    ),
    carol2MiB: await outcomeOf(carol.createTransfer({ session: q.session.id, size: 2 * MiB, kind: "relay" })),
    carol1MiB: await outcomeOf(carol.createTransfer({ session: q.session.id, size: MiB, kind: "relay" })),
  };
  expect(outcomes).toEqual({ alice2MiB: "ok", carol2MiB: "507 spool_full", carol1MiB: "ok" });
});

/** @module End to end, compiled binary: a store-and-forward send interrupted by Ctrl-C is finished by `send --resume` in a new process, at the node's offset (issue 19 item 10). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EXIT_INTERRUPTED } from "../../cli/command.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { libraryOf, startCluster } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;
let file: string;

beforeAll(async () => {
  cluster = await startCluster({ nodeConfig: { tcpProbe: true } });
  await cluster.addRecorder("alice");
  await cluster.addRecorder("carol");
  await cluster.permit("carol", "alice");
  file = join(cluster.root, "resumed.bin");
  await writeFile(file, randomBytes(3_000_000));
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

const pendingDir = () => join(cluster.recorder("alice").dataDir, "pending-sends");
const pendingFiles = () => {
  try {
    return readdirSync(pendingDir());
  } catch {
    return [];
  }
};

/**
 * Starts a store send of `file` to the stopped carol through a throttled proxy and interrupts it with SIGINT
 * once the node holds part of it: the interrupted process's output and exit code, and the spool before and after.
 */
async function interruptedStoreSend(
  file: string,
): Promise<{ out: string; code: number; before: number; held: number }> {
  await cluster.stopRecorder("carol");
  // The upload goes through a throttled proxy in front of the node, so it is still running when interrupted.
  const tap = await Tap.start(cluster.http, 400_000);
  const alice = cluster.recorder("alice");
  const before = (await cluster.admin.spool()).bytes;
  const args = [
    "send",
    file,
    "--to",
    "carol",
    "--json",
    "--store-if-busy",
    "--node",
    // The tap relays TLS bytes untouched, so alice's pin still checks the node's own certificate.
    `https://127.0.0.1:${tap.port}`,
  ];
  await using proc = Bun.spawn([...alice.command, ...args, "--data", alice.dataDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  await waitFor(
    "the node to hold part of the upload",
    async () => (await cluster.admin.spool()).bytes > before + 200_000,
    { timeoutMs: 20_000 },
  );
  expect(pendingFiles()).toHaveLength(1);
  proc.kill("SIGINT");
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  // The proxy would go on feeding the node what it buffered: closing it ends the dead upload as a closed
  // connection does, and the node keeps what it received.
  await tap[Symbol.asyncDispose]();
  return { out, code, before, held: (await cluster.admin.spool()).bytes - before };
}

describe("send --resume", () => {
  test("send --resume with nothing interrupted asks carol, is told she kept nothing, and sends all of it", async () => {
    const r = await cluster.recorderRun("alice", ["send", file, "--to", "carol", "--resume", "--json"]);
    const s = summaryOf(r.stdout);
    expect({ code: r.code, ok: s.ok, mode: s.mode, resumedFrom: s.resumedFrom }).toEqual({
      code: 0,
      ok: true,
      mode: "live",
      resumedFrom: 0,
    });
  });

  test("a store send interrupted by SIGINT is finished by --resume from the node's offset, then filed byte-exact", async () => {
    const { out, code, held } = await interruptedStoreSend(file);
    expect(code).toBe(EXIT_INTERRUPTED);
    const interrupted = summaryOf(out) as { code?: string; message: string };
    expect(interrupted.code).toBe("ERR_INTERRUPTED");
    expect(interrupted.message).toContain("--resume");
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(3_000_000);

    const r = await cluster.recorderRun("alice", ["send", file, "--to", "carol", "--resume", "--json"]);
    const s = summaryOf(r.stdout);
    expect({ code: r.code, ok: s.ok, mode: s.mode }).toEqual({ code: 0, ok: true, mode: "store" });
    expect(pendingFiles()).toEqual([]);
    // Only what the node lacked went again: the log names the offset it resumed at.
    expect(r.stdout).toMatch(/resuming at byte [1-9]\d*/);

    const carol = await cluster.restartRecorder("carol");
    await carol.proc.waitForLine(/recorder (pickup-filed|filed) /, { timeoutMs: 30_000 });
    const got = (await libraryOf(cluster, "carol")).find((x) => x.sha256 === s.sha256);
    expect(await sha256File(got?.path ?? "")).toBe(await sha256File(file));
  }, 90_000);

  test("send --cancel gives an interrupted store send up: the node drops it at once, and carol never gets it", async () => {
    const other = join(cluster.root, "given-up.bin");
    await writeFile(other, randomBytes(3_000_000));
    const { code, before, held } = await interruptedStoreSend(other);
    expect(code).toBe(EXIT_INTERRUPTED);
    expect(held).toBeGreaterThan(0);
    const r = await cluster.recorderRun("alice", ["send", other, "--to", "carol", "--cancel", "--json"]);
    expect(r.code).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ ok: true, mode: "cancelled" });
    // Freed now, not at the lease's end: nothing of it is left in the spool, and no record to resume.
    expect((await cluster.admin.spool()).bytes).toBe(before);
    expect(pendingFiles()).toEqual([]);
    const again = await cluster.recorderRun("alice", ["send", other, "--to", "carol", "--cancel", "--json"]);
    expect({ code: again.code, error: summaryOf(again.stdout).code }).toEqual({
      code: 1,
      error: "ERR_NOTHING_TO_CANCEL",
    });
    // No store send is recorded any more: --resume is a live one, and carol is off.
    const resume = await cluster.recorderRun("alice", ["send", other, "--to", "carol", "--resume", "--json"]);
    expect(summaryOf(resume.stdout).code).toBe("callee_not_connected");
    // Carol's inbox at the node is empty: she will never be offered half a recording.
    const cred = JSON.parse(
      await Bun.file(join(cluster.recorder("carol").dataDir, "credential.json")).text(),
    );
    const carol = new ControlClient({
      baseUrl: cluster.nodeUrl,
      deviceId: cred.id,
      secret: cred.secret,
      trust: { kind: "pin", pin: cluster.pin },
    });
    expect(await carol.inbox()).toEqual([]);
  }, 90_000);

  test("send --resume and --cancel together are a usage error", async () => {
    const r = await cluster.recorderRun("alice", ["send", file, "--to", "carol", "--resume", "--cancel"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--resume and --cancel exclude each other");
  });
});

/** @module End to end, compiled binary: a store-and-forward send interrupted by Ctrl-C is finished by `send --resume` in a new process, at the node's offset (issue 19 item 10). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EXIT_INTERRUPTED } from "../../cli/command.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { sha256File } from "../support/left-behind.ts";
import { summaryOf } from "../support/send-summary.ts";
import { libraryOf, startCluster, Tap } from "./e2e-kit.ts";

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

describe("send --resume", () => {
  test("send --resume with nothing interrupted says so (ERR_NOTHING_TO_RESUME)", async () => {
    const r = await cluster.recorderRun("alice", ["send", file, "--to", "carol", "--resume", "--json"]);
    expect(r.code).toBe(1);
    expect(summaryOf(r.stdout).code).toBe("ERR_NOTHING_TO_RESUME");
  });

  test("a store send interrupted by SIGINT is finished by --resume from the node's offset, then filed byte-exact", async () => {
    await cluster.stopRecorder("carol");
    // The upload goes through a throttled proxy in front of the node, so it is still running when interrupted.
    const tap = await Tap.start(cluster.http, 400_000);
    const alice = cluster.recorder("alice");
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
      async () => (await cluster.admin.spool()).bytes > 200_000,
      {
        timeoutMs: 20_000,
      },
    );
    expect(pendingFiles()).toHaveLength(1);
    proc.kill("SIGINT");
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    // The proxy would go on feeding the node what it buffered: closing it ends the dead upload as a closed
    // connection does, and the node keeps what it received.
    await tap[Symbol.asyncDispose]();
    await waitFor("the node to see the upload end", async () => {
      const t = await cluster.admin.spool();
      return t.bytes > 0;
    });
    expect(code).toBe(EXIT_INTERRUPTED);
    const interrupted = summaryOf(out) as { code?: string; message: string };
    expect(interrupted.code).toBe("ERR_INTERRUPTED");
    expect(interrupted.message).toContain("--resume");
    const held = (await cluster.admin.spool()).bytes;
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
});

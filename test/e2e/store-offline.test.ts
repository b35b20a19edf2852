/** @module End to end, compiled binary: --store-if-busy to a callee whose box is off stores the recording; it is filed when the box comes back (issue 19 item 7). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, startCluster } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

beforeAll(async () => {
  // tcpProbe: a stopped recorder is callee_not_connected at once, not after its keepalives age out.
  cluster = await startCluster({ nodeConfig: { tcpProbe: true } });
  await cluster.addRecorder("alice");
  await cluster.addRecorder("carol");
  await cluster.permit("carol", "alice");
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

describe("store-and-forward to a callee that is off", () => {
  test("send --store-if-busy to a switched-off callee is stored, and filed byte-exact when its box is back on", async () => {
    await cluster.stopRecorder("carol");
    const refused = await cluster.recorderRun("alice", ["send", SAMPLE, "--to", "carol", "--json"]);
    expect(refused.code).toBe(1);
    const refusal = JSON.parse(refused.stdout.trim().split("\n").at(-1) ?? "{}") as {
      code?: string;
      next?: string;
    };
    expect(refusal.code).toBe("callee_not_connected");
    expect(refusal.next).toContain("--store-if-busy");

    const run = await cluster.recorderRun("alice", [
      "send",
      SAMPLE,
      "--to",
      "carol",
      "--json",
      "--store-if-busy",
    ]);
    const s = summaryOf(run.stdout);
    expect({ code: run.code, mode: s.mode, ok: s.ok }).toEqual({ code: 0, mode: "store", ok: true });
    expect(s.bytesDirect).toBe(0);
    expect((await cluster.admin.spool()).files).toBe(1);

    const carol = await cluster.restartRecorder("carol");
    await carol.proc.waitForLine(/recorder (pickup-filed|filed) /, { timeoutMs: 30_000 });
    const got = (await libraryOf(cluster, "carol")).find((r) => r.sha256 === s.sha256);
    expect(await sha256File(got?.path ?? "")).toBe(await sha256File(SAMPLE));
  });
});

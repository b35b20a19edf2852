/** @module End to end, compiled binary: a live send that fell back to the relay (no direct path), killed mid-upload, is finished by `send --resume` in its own session from the node's offsets (issue 19 item 10). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { mpeg2RecordingArgs } from "../../demo/mpeg2-recipe.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { libraryOf, startAliceAndBob } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

/** A port nothing listens on: the direct dial is refused, so the send falls back to the relay for everything. */
const NO_DIRECT = ["--direct", "127.0.0.1:1"];

type Record = { sessionId: string; expiresAt: number; transfers: Array<{ id: string; size: number }> };

const recordsOf = (c: Cluster): string[] => {
  try {
    // Not the temp file of an atomic write in progress.
    return readdirSync(join(c.recorder("alice").dataDir, "pending-sends"))
      .filter((n) => n.endsWith(".json"))
      .map((n) => join(c.recorder("alice").dataDir, "pending-sends", n));
  } catch {
    return [];
  }
};

/** Alice's own client of the node, for what the node holds of her transfers. */
function aliceClient(c: Cluster): ControlClient {
  const cred = JSON.parse(readFileSync(join(c.recorder("alice").dataDir, "credential.json"), "utf8"));
  return new ControlClient({
    baseUrl: c.nodeUrl,
    deviceId: cred.id,
    secret: cred.secret,
    trust: { kind: "pin", pin: c.pin },
  });
}

async function nodeHolds(c: Cluster, rec: Record): Promise<number> {
  const client = aliceClient(c);
  let n = 0;
  for (const t of rec.transfers) n += (await client.transfer(t.id)).received;
  return n;
}

/**
 * Starts alice sending FILE to bob with no direct path and her requests to the node through a throttled tap,
 * waits until the node's spool holds `atLeast` bytes of the upload, and kills her with `signal`. Resolves,
 * once the node has settled the cut uploads (its API says the same twice), with the fallback record she kept,
 * what the node holds of her transfers, and her output.
 */
async function killedFallback(
  c: Cluster,
  file: string,
  o: { signal: "SIGKILL" | "SIGINT"; atLeast: number },
): Promise<{ rec: Record; path: string; held: number; out: string; code: number }> {
  const alice = c.recorder("alice");
  const before = (await c.admin.spool()).bytes;
  const tap = await Tap.start(c.http, 400_000);
  const args = [
    "send",
    file,
    "--to",
    "bob",
    "--json",
    ...NO_DIRECT,
    "--node",
    `https://127.0.0.1:${tap.port}`,
  ];
  await using proc = Bun.spawn([...alice.command, ...args, "--data", alice.dataDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  await waitFor("alice to record the fallback's transfers", () => recordsOf(c).length === 1, {
    timeoutMs: 20_000,
    intervalMs: 20,
  });
  const path = recordsOf(c)[0]!;
  const rec = JSON.parse(readFileSync(path, "utf8")) as Record;
  await waitFor(
    "the node to hold part of the upload",
    async () => (await c.admin.spool()).bytes >= before + o.atLeast,
    { timeoutMs: 20_000, intervalMs: 20 },
  );
  proc.kill(o.signal);
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  // The tap would go on feeding what it buffered: closing it ends the dead upload as a broken connection does.
  await tap[Symbol.asyncDispose]();
  let last = -1;
  let held = 0;
  await waitFor(
    "the node to settle the cut uploads",
    async () => {
      const now = await nodeHolds(c, rec);
      [last, held] = [held, now];
      return now > 0 && now === last;
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  return { rec, path, held, out, code };
}

describe("send --resume of a send that fell back to the relay", () => {
  let cluster: Cluster;
  let video: string;
  beforeAll(async () => {
    cluster = await startAliceAndBob();
    video = join(cluster.root, "programme.mpg");
    const ff = Bun.spawnSync([
      "ffmpeg",
      ...mpeg2RecordingArgs({
        source: "testsrc=size=720x576:rate=25,noise=alls=30:allf=t",
        seconds: 3,
        format: "vob",
        bitrate: "8M",
        bufsize: "1835k",
        overwrite: true,
      }),
      video,
    ]);
    if (ff.exitCode !== 0) throw new Error(`ffmpeg failed: ${ff.stderr.toString()}`);
  }, 120_000);
  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });

  /** The resumed run, through an unthrottled tap that counts what it uploads. */
  async function resumed(file: string) {
    await using tap = await Tap.start(cluster.http);
    const r = await cluster.recorderRun("alice", [
      "send",
      file,
      "--to",
      "bob",
      "--json",
      "--resume",
      "--node",
      `https://127.0.0.1:${tap.port}`,
    ]);
    return { r, s: summaryOf(r.stdout), uploaded: tap.upstream().byteLength };
  }

  async function expectFiledOnce(file: string): Promise<void> {
    const sha = await sha256File(file);
    const copies = (await libraryOf(cluster, "bob")).filter((x) => x.sha256 === sha);
    expect(copies).toHaveLength(1);
    expect(await sha256File(copies[0]?.path ?? "")).toBe(sha);
  }

  test("a split video's two relay streams, sender SIGKILLed mid-upload: --resume uploads only what the node lacks, bob files it byte-identical", async () => {
    const { rec, path, held, code } = await killedFallback(cluster, video, {
      signal: "SIGKILL",
      atLeast: 300_000,
    });
    expect(code).not.toBe(0);
    expect(rec.transfers).toHaveLength(2);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const total = rec.transfers.reduce((n, t) => n + t.size, 0);
    expect(held).toBeGreaterThanOrEqual(300_000);
    expect(held).toBeLessThan(total);

    const { r, s, uploaded } = await resumed(video);
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect({ code: r.code, ok: s.ok, mode: s.mode, fallback: s.fallback }).toEqual({
      code: 0,
      ok: true,
      mode: "live",
      fallback: true,
    });
    expect(s.sessionId).toBe(rec.sessionId);
    expect(s.nodeHeld).toBe(held);
    expect(s.bytesRelay).toBe(total - held);
    // What went up the wire: the rest of the sealed streams, plus TLS and the requests' few KiB.
    expect(uploaded).toBeGreaterThan(total - held);
    expect(uploaded).toBeLessThan(total - held + 64 * 1024);
    expect(r.stdout).toMatch(/resuming at byte [1-9]\d*/);
    await expectFiledOnce(video);
    expect(recordsOf(cluster)).toEqual([]);
  }, 120_000);

  test("a data file's whole stream, interrupted by Ctrl-C: the message points to --resume, which finishes it", async () => {
    const file = join(cluster.root, "data.bin");
    await writeFile(file, randomBytes(2_500_000));
    const { rec, held, out, code } = await killedFallback(cluster, file, {
      signal: "SIGINT",
      atLeast: 200_000,
    });
    expect(code).not.toBe(0);
    const interrupted = summaryOf(out) as { code?: string; message: string };
    expect(interrupted.code).toBe("ERR_INTERRUPTED");
    expect(interrupted.message).toContain("through the node");
    expect(interrupted.message).toContain("--resume");
    expect(rec.transfers).toHaveLength(1);

    const { r, s, uploaded } = await resumed(file);
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect({ code: r.code, ok: s.ok, nodeHeld: s.nodeHeld }).toEqual({ code: 0, ok: true, nodeHeld: held });
    expect(uploaded).toBeLessThan(rec.transfers[0]!.size - held + 64 * 1024);
    await expectFiledOnce(file);
  }, 120_000);

  test("a record left by a sender killed after bob filed it: --resume says so, sends nothing, and removes it", async () => {
    const file = join(cluster.root, "filed.bin");
    await writeFile(file, randomBytes(1_500_000));
    const alice = cluster.recorder("alice");
    const args = ["send", file, "--to", "bob", "--json", ...NO_DIRECT, "--data", alice.dataDir];
    await using proc = Bun.spawn([...alice.command, ...args], { stdout: "pipe", stderr: "pipe" });
    // The record as a kill -9 after the upload would have left it: copied while the send runs, restored after.
    const saved = await waitFor("alice to record the fallback's transfers", () => {
      const [path] = recordsOf(cluster);
      return path === undefined ? undefined : { path, text: readFileSync(path, "utf8") };
    });
    expect(await proc.exited).toBe(0);
    expect(recordsOf(cluster)).toEqual([]);
    writeFileSync(saved.path, saved.text, { mode: 0o600 });
    const { r, s, uploaded } = await resumed(file);
    expect({ code: r.code, ok: s.ok, bytesRelay: s.bytesRelay }).toEqual({
      code: 0,
      ok: true,
      bytesRelay: 0,
    });
    expect(s.message).toContain("already fetched and filed");
    expect(uploaded).toBeLessThan(16 * 1024);
    expect(recordsOf(cluster)).toEqual([]);
    await expectFiledOnce(file);
  }, 60_000);

  test("a damaged record: --resume says so with ERR_PENDING_SEND_DAMAGED and removes it, no crash", async () => {
    const file = join(cluster.root, "damaged.bin");
    await writeFile(file, randomBytes(2_000_000));
    const { path } = await killedFallback(cluster, file, { signal: "SIGKILL", atLeast: 100_000 });
    writeFileSync(path, '{"version": 1, "sessionId": ');
    const r = await cluster.recorderRun("alice", ["send", file, "--to", "bob", "--json", "--resume"]);
    expect(r.code).toBe(1);
    expect(summaryOf(r.stdout).code).toBe("ERR_PENDING_SEND_DAMAGED");
    expect(r.stderr).toContain("send again without --resume");
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(recordsOf(cluster)).toEqual([]);
  }, 60_000);
});

describe("send --resume of a fallback send after its lease", () => {
  let short: Cluster;
  beforeAll(async () => {
    short = await startAliceAndBob({
      nodeConfig: { sessionDurationSec: 3, connectWindowSec: 3, extensionSec: 3 },
    });
  });
  afterAll(async () => {
    await short?.[Symbol.asyncDispose]();
  });

  test("the lease ran out: resume_expired, the next step says send again, and the record goes", async () => {
    const file = join(short.root, "late.bin");
    await writeFile(file, randomBytes(2_000_000));
    const { rec } = await killedFallback(short, file, { signal: "SIGKILL", atLeast: 100_000 });
    await waitFor("the session's lease to end", () => Date.now() > rec.expiresAt + 500, {
      timeoutMs: 15_000,
    });
    const r = await short.recorderRun("alice", ["send", file, "--to", "bob", "--json", "--resume"]);
    const s = summaryOf(r.stdout) as { code?: string; next?: string; message: string };
    expect({ code: r.code, error: s.code }).toEqual({ code: 1, error: "resume_expired" });
    expect(s.message).toContain(rec.sessionId);
    expect(s.next).toContain("send it again without --resume");
    expect(recordsOf(short)).toEqual([]);
  }, 60_000);
});

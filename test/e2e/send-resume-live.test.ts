/** @module End to end, compiled binary: a live send killed mid-transfer on each route is finished by `send --resume`, which sends only what the receiver lacks (issue 19 item 10). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { mpeg2RecordingArgs } from "../../demo/mpeg2-recipe.ts";
import { waitFor } from "../../demo/wait-for.ts";
import { libraryOf, startCluster } from "../support/e2e-stage.ts";
import { sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;
let video: string;

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.addRecorder("alice");
  await cluster.addRecorder("mallory");
  await cluster.addRecorder("bob");
  // dave keeps an interrupted receive for 2 s only: the expiry test.
  await cluster.addRecorder("dave", { args: ["--partial-hold", "2"] });
  // erin's daemon is killed mid-receive.
  await cluster.addRecorder("erin");
  for (const callee of ["bob", "dave", "erin"]) {
    await cluster.permit(callee, "alice");
    await cluster.permit(callee, "mallory");
  }
  // A few MB of MPEG-2 in a program stream: long enough through a throttled tap to be cut mid-transfer.
  video = join(cluster.root, "programme.mpg");
  const ff = Bun.spawnSync([
    "ffmpeg",
    ...mpeg2RecordingArgs({
      // Noise keeps the encoder at its bitrate: about 4 MB.
      source: "testsrc=size=720x576:rate=25,noise=alls=30:allf=t",
      seconds: 4,
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

const partialsOf = (name: string) => join(cluster.recorder(name).dataDir, "partials");
const records = (
  name: string,
): Array<{ held: number; shape: string; expiresAt: number; receiving?: string }> => {
  const dir = partialsOf(name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")));
};
const incomingBytes = (name: string): number => {
  const dir = join(cluster.recorder(name).dataDir, "library", ".incoming");
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((n) => n.endsWith(".part"))
    .reduce((sum, n) => sum + (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0), 0);
};

/**
 * Starts `from` sending FILE to `to` with one leg throttled (the direct channel, or everything to the node for
 * the secret route), waits until the receiver has at least a MiB of it on disk, and kills the sender (SIGKILL:
 * no chance to tidy up). Resolves with what the receiver then kept: its partial record.
 */
async function killedMidTransfer(o: {
  from?: string;
  to: string;
  file: string;
  flags?: string[];
  throttle: "direct" | "node";
  signal?: "SIGKILL" | "SIGINT";
}): Promise<{ held: number; out: string }> {
  const sender = cluster.recorder(o.from ?? "alice");
  const before = records(o.to).length;
  await using tap =
    o.throttle === "direct"
      ? await Tap.start(cluster.recorder(o.to).direct, 1_000_000)
      : await Tap.start(cluster.http, 1_000_000);
  const route =
    o.throttle === "direct"
      ? ["--direct", `127.0.0.1:${tap.port}`]
      : ["--node", `https://127.0.0.1:${tap.port}`];
  const args = [
    "send",
    o.file,
    "--to",
    o.to,
    "--json",
    ...route,
    ...(o.flags ?? []),
    "--data",
    sender.dataDir,
  ];
  await using proc = Bun.spawn([...sender.command, ...args], { stdout: "pipe", stderr: "pipe" });
  // The receiver's incoming file grows in 1 MiB writes: one on disk means the transfer is well under way.
  try {
    await waitFor(`${o.to} to have a MiB on disk`, () => incomingBytes(o.to) >= 1024 * 1024, {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
  } catch (err) {
    proc.kill("SIGKILL");
    const [out, errText] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    throw new Error(
      `${(err as Error).message}; the sender said:\n${out.slice(-3000)}\n${errText.slice(-2000)}`,
    );
  }
  proc.kill(o.signal ?? "SIGKILL");
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  // What the killed sender had already handed to the throttled tap would otherwise still trickle in at 1 MB/s,
  // and a 6 MB file can sit whole in the socket buffers: the receiver would then file it complete, not keep a
  // partial. The path ends with the sender, as mid-transfer.
  tap.cut();
  await waitFor(`${o.to} to keep the partial`, () => records(o.to).length > before, { timeoutMs: 20_000 });
  const kept = records(o.to).at(-1)!;
  expect(kept.held).toBeGreaterThanOrEqual(1024 * 1024);
  return { held: kept.held, out };
}

async function resume(o: { from?: string; to: string; file: string; flags?: string[] }) {
  const r = await cluster.recorderRun(o.from ?? "alice", [
    "send",
    o.file,
    "--to",
    o.to,
    "--json",
    "--resume",
    ...(o.flags ?? []),
  ]);
  return { r, s: summaryOf(r.stdout) };
}

async function expectFiled(to: string, file: string, sha: string): Promise<void> {
  const entry = (await libraryOf(cluster, to)).find((x) => x.sha256 === sha);
  expect(await sha256File(entry?.path ?? "")).toBe(await sha256File(file));
}

describe("send --resume of a live send", () => {
  test("data route: killed mid-transfer, --resume sends only the rest on the direct channel; the file is byte-identical", async () => {
    const file = join(cluster.root, "data.bin");
    await writeFile(file, randomBytes(6_000_000));
    const { held } = await killedMidTransfer({ to: "bob", file, throttle: "direct" });
    // Another caller asking for the same file and shape is told nothing is held, and does not touch alice's.
    const other = await resume({ from: "mallory", to: "bob", file });
    expect({ code: other.r.code, ok: other.s.ok, resumedFrom: other.s.resumedFrom }).toEqual({
      code: 0,
      ok: true,
      resumedFrom: 0,
    });
    expect(other.s.bytesDirect).toBe(6_000_000);
    expect(records("bob").map((x) => x.held)).toContain(held);

    const { r, s } = await resume({ to: "bob", file });
    expect({ code: r.code, ok: s.ok, route: s.route, resumedFrom: s.resumedFrom }).toEqual({
      code: 0,
      ok: true,
      route: "data",
      resumedFrom: held,
    });
    expect(s.bytesDirect).toBe(6_000_000 - held);
    expect(s.bytesRelay).toBe(0);
    await expectFiled("bob", file, s.sha256);
    expect(records("bob")).toEqual([]);
  }, 120_000);

  for (const protection of ["sealed", "seed", "pattern"] as const)
    test(`split route (${protection}): killed mid-transfer, --resume sends only the rest of both parts; the file is byte-identical`, async () => {
      const flags = ["--protection", protection];
      const { held } = await killedMidTransfer({ to: "bob", file: video, flags, throttle: "direct" });
      const { r, s } = await resume({ to: "bob", file: video, flags });
      expect({ code: r.code, ok: s.ok, route: s.route, resumedFrom: s.resumedFrom }).toEqual({
        code: 0,
        ok: true,
        route: "split",
        resumedFrom: held,
      });
      const size = statSync(video).size;
      // What went: each part's headers plus exactly the original's bytes past the held prefix.
      const sent = s.bytesDirect + s.bytesRelayPayload;
      expect(sent).toBeGreaterThanOrEqual(size - held);
      expect(sent - (size - held)).toBeLessThan(64 * 1024);
      await expectFiled("bob", video, s.sha256);
      expect(records("bob")).toEqual([]);
    }, 120_000);

  test("secret route: interrupted (SIGINT) mid-upload, --resume uploads a relay stream for the rest only; the file is byte-identical", async () => {
    const file = join(cluster.root, "secret.bin");
    await writeFile(file, randomBytes(5_000_000));
    // Ctrl-C this time: the interrupted send says how to finish it.
    const { held, out } = await killedMidTransfer({
      to: "bob",
      file,
      flags: ["--secret"],
      throttle: "node",
      signal: "SIGINT",
    });
    const interrupted = summaryOf(out) as { code?: string; message: string };
    expect(interrupted.code).toBe("ERR_INTERRUPTED");
    expect(interrupted.message).toContain(`'pvrlink send ${file} --to bob --resume' sends only the rest`);
    const { r, s } = await resume({ to: "bob", file, flags: ["--secret"] });
    expect({ code: r.code, ok: s.ok, route: s.route, resumedFrom: s.resumedFrom }).toEqual({
      code: 0,
      ok: true,
      route: "secret",
      resumedFrom: held,
    });
    expect(s.bytesDirect).toBe(0);
    expect(s.bytesRelayPayload).toBe(5_000_000 - held);
    await expectFiled("bob", file, s.sha256);
    expect(records("bob")).toEqual([]);
  }, 120_000);

  test("a changed file starts fresh: --resume of other content is sent whole", async () => {
    const file = join(cluster.root, "changing.bin");
    await writeFile(file, randomBytes(4_000_000));
    await killedMidTransfer({ to: "bob", file, throttle: "direct" });
    await writeFile(file, randomBytes(4_000_000));
    const { r, s } = await resume({ to: "bob", file });
    expect({ code: r.code, ok: s.ok, resumedFrom: s.resumedFrom, bytesDirect: s.bytesDirect }).toEqual({
      code: 0,
      ok: true,
      resumedFrom: 0,
      bytesDirect: 4_000_000,
    });
    await expectFiled("bob", file, s.sha256);
  }, 120_000);

  test("an expired partial is swept by the receiver, and --resume then sends it whole", async () => {
    const file = join(cluster.root, "expiring.bin");
    await writeFile(file, randomBytes(4_000_000));
    await killedMidTransfer({ to: "dave", file, throttle: "direct" });
    await waitFor("dave to sweep the expired partial", () => readdirSync(partialsOf("dave")).length === 0, {
      timeoutMs: 20_000,
    });
    const { r, s } = await resume({ to: "dave", file });
    expect({ code: r.code, ok: s.ok, resumedFrom: s.resumedFrom, bytesDirect: s.bytesDirect }).toEqual({
      code: 0,
      ok: true,
      resumedFrom: 0,
      bytesDirect: 4_000_000,
    });
    await expectFiled("dave", file, s.sha256);
  }, 120_000);

  test("a send without --resume starts over and drops what the receiver kept", async () => {
    const file = join(cluster.root, "restart.bin");
    await writeFile(file, randomBytes(4_000_000));
    // Earlier tests may leave partials of other content (the changed file's): only this one must go.
    const before = records("bob").length;
    await killedMidTransfer({ to: "bob", file, throttle: "direct" });
    expect(records("bob")).toHaveLength(before + 1);
    const r = await cluster.recorderRun("alice", ["send", file, "--to", "bob", "--json"]);
    const s = summaryOf(r.stdout);
    expect({ code: r.code, ok: s.ok, bytesDirect: s.bytesDirect }).toEqual({
      code: 0,
      ok: true,
      bytesDirect: 4_000_000,
    });
    expect(s.resumedFrom).toBeUndefined();
    expect(records("bob")).toHaveLength(before);
  }, 120_000);

  test("a receiver killed (SIGKILL) mid-transfer keeps its last checkpoint: after its restart --resume sends only the rest", async () => {
    const file = join(cluster.root, "checkpointed.bin");
    const size = 48_000_000;
    await writeFile(file, randomBytes(size));
    const alice = cluster.recorder("alice");
    await using tap = await Tap.start(cluster.recorder("erin").direct, 8_000_000);
    const args = ["send", file, "--to", "erin", "--json", "--direct", `127.0.0.1:${tap.port}`];
    await using sender = Bun.spawn([...alice.command, ...args, "--data", alice.dataDir], {
      stdout: "pipe",
      stderr: "pipe",
    });
    // Every 16 MiB erin fsyncs and records where the running receive stands.
    await waitFor("erin to checkpoint the running receive", () => records("erin").some((r) => r.receiving), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    await cluster.recorder("erin").proc.stop("SIGKILL");
    sender.kill("SIGKILL");
    await sender.exited;
    await cluster.restartRecorder("erin");
    const [kept] = records("erin");
    expect(kept?.receiving).toBeUndefined();
    expect(kept?.held).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(kept?.held).toBeLessThan(size);
    const { r, s } = await resume({ to: "erin", file });
    expect({ code: r.code, ok: s.ok, resumedFrom: s.resumedFrom }).toEqual({
      code: 0,
      ok: true,
      resumedFrom: kept?.held,
    });
    expect(s.bytesDirect).toBe(size - (kept?.held ?? 0));
    await expectFiled("erin", file, s.sha256);
    expect(records("erin")).toEqual([]);
  }, 180_000);
});

/** @module Encrypt bench: the firmware's relay-stream sealing against openssl speed, the selective split pipeline against sealing everything, and the sender's CPU per GiB in each protection mode. */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { encodeSplitHeaders } from "../codec/split/split-format.ts";
import { importSessionKey, sealChunk } from "../crypto/aead.ts";
import { tagChunk } from "../crypto/chunk-tag.ts";
import { openInput, readChunks } from "../firmware/commands/recording-file.ts";
import { encodeFromFile, manifestFor, STREAM_OF } from "../firmware/send/relay-sources.ts";
import { planSend } from "../firmware/send/send-plan.ts";
import { patternEncoder } from "../firmware/send/split-pass.ts";
import { RELAY_STREAM_PROTECTED, RELAY_STREAM_WHOLE, relayKey } from "../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../firmware/transfer/relay-stream-encoder.ts";
import { benchRecordings } from "./lib/bench-recordings.ts";
import { formatTable } from "./lib/format-table.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out");
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** The firmware's read size (firmware/commands/recording-file.ts). */
const READ_CHUNK = 4 * MIB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SEAL_BYTES = Number(process.env.BENCH_SEAL_MIB ?? 256) * MIB;

interface Measure {
  name: string;
  bytes: number;
  /** Best wall time, seconds. */
  seconds: number;
  /** CPU time (user + system) of the best run, seconds. */
  cpuSeconds: number;
  mbps: number;
  cpuSecondsPerGiB: number;
}

/** Best of RUNS by wall time, with that run's process CPU time (both cores count: WebCrypto may use a thread). */
async function measure(name: string, bytes: number, fn: () => Promise<unknown>): Promise<Measure> {
  let best: Measure | undefined;
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = Bun.nanoseconds();
    await fn();
    const seconds = (Bun.nanoseconds() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpuSeconds = (c.user + c.system) / 1e6;
    if (!best || seconds < best.seconds) {
      best = {
        name,
        bytes,
        seconds,
        cpuSeconds,
        mbps: bytes / seconds / 1e6,
        cpuSecondsPerGiB: (cpuSeconds * GIB) / bytes,
      };
    }
  }
  return best as Measure;
}

function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** `openssl speed -evp CIPHER -bytes 1048576 -seconds 3 -mr`: bytes per second from its +F line, and its CPU time. */
async function opensslSpeed(cipher: string): Promise<Measure> {
  const out = await $`openssl speed -evp ${cipher} -bytes ${MIB} -seconds 3 -mr`.quiet().nothrow();
  const text = out.stdout.toString() + out.stderr.toString();
  const f = text.split("\n").find((l) => l.startsWith("+F:"));
  const r = text.split("\n").find((l) => l.startsWith("+R:"));
  if (!f) throw new Error(`bench: openssl speed printed no +F line:\n${text}`);
  const bytesPerSec = Number(f.split(":").at(-1));
  // +R:count:cipher:seconds — openssl times the loop in process CPU time by default (-elapsed not given).
  const [, count, , secs] = (r ?? "").split(":");
  const seconds = Number(secs);
  const bytes = Number(count) * MIB;
  return {
    name: `openssl speed -evp ${cipher} (1 MiB blocks)`,
    bytes,
    seconds,
    cpuSeconds: seconds,
    mbps: bytesPerSec / 1e6,
    cpuSecondsPerGiB: GIB / bytesPerSec,
  };
}

type ProtectionRun = "seed" | "pattern" | "whole";

/**
 * What `pvrlink send` spends CPU on for one recording in one protection mode, with the firmware's own pieces:
 * pass 1 is planSend() (read, index, SHA-256, and in pattern mode the PatternPlanner on the same chunks);
 * pass 2 reads the file again, routes with RangeRouter, seals the protected part with the RelayStreamEncoder,
 * runs the direct part through the PatternDirectEncoder (pattern) and GMAC-tags it in 1 MiB clear frames as
 * DirectConnection does. "whole" is the secret route: planSend's SHA-256 pass, then encodeFromFile() sealing
 * every byte. Sockets are left out: they cost the same in every mode.
 */
async function sendSide(
  path: string,
  mode: ProtectionRun,
  rawKey: Uint8Array,
  key: CryptoKey,
): Promise<void> {
  const relay = await relayKey(rawKey);
  const plan = await (async () => {
    await using input = await openInput(path);
    return await planSend(input, path, mode === "whole" ? { secret: true } : { protection: mode });
  })();
  if (mode === "whole") {
    for await (const _ of encodeFromFile(
      relay,
      "bench",
      plan,
      "whole",
      manifestFor(plan, "whole", "bench"),
    )) {
      // the sealed records would go to the node
    }
    return;
  }
  const split = plan.split;
  if (!split) throw new Error(`bench: ${path} did not split`);
  if (mode === "pattern" && split.protection !== "pattern")
    throw new Error(`bench: ${path} has no pattern plan`);
  const enc = new RelayStreamEncoder(relay, "bench", STREAM_OF.protected);
  await enc.manifest(manifestFor(plan, "protected", "bench"));
  await enc.data(split.protectedHeader);
  const pattern = split.pattern ? await patternEncoder(split.pattern, rawKey) : undefined;
  const frame = new Uint8Array(MIB);
  let fill = 0;
  let index = 0;
  const flush = async () => {
    if (fill === 0) return;
    await tagChunk(key, { context: "bench", stream: 1, index: index++ }, frame.subarray(0, fill));
    fill = 0;
  };
  const frameOut = async (d: Uint8Array) => {
    let at = 0;
    while (at < d.length) {
      const k = Math.min(MIB - fill, d.length - at);
      frame.set(d.subarray(at, at + k), fill);
      fill += k;
      at += k;
      if (fill === MIB) await flush();
    }
  };
  const direct = async (d: Uint8Array) => {
    if (!pattern) return frameOut(d);
    for (const out of await pattern.push(d)) await frameOut(out);
  };
  await direct(split.directHeader);
  const router = new RangeRouter(split.ranges, plan.size);
  await using input = await openInput(path);
  for await (const chunk of readChunks(input, { reuse: true })) {
    const routed = router.push(chunk);
    for (const p of routed.protected) await enc.data(p);
    for (const d of routed.direct) await direct(d);
  }
  router.finish();
  pattern?.finish();
  await flush();
  await enc.end();
}

interface ModeFigure {
  recording: string;
  bytes: number;
  mode: ProtectionRun;
  /** Lowest process CPU (user + system) over the rounds, per GiB of recording. */
  cpuSecondsPerGiB: number;
  wallSeconds: number;
}

/** Rounds interleave the modes (seed, pattern, whole, seed, ...) so a busy moment on the shared box hits all. */
async function protectionModes(recordings: string[], key: CryptoKey): Promise<ModeFigure[]> {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const best = new Map<string, ModeFigure>();
  const modes: ProtectionRun[] = ["seed", "pattern", "whole"];
  for (let round = 0; round < RUNS; round++) {
    for (const path of recordings) {
      const bytes = Bun.file(path).size;
      for (const mode of modes) {
        const c0 = process.cpuUsage();
        const t0 = Bun.nanoseconds();
        await sendSide(path, mode, rawKey, key);
        const wallSeconds = (Bun.nanoseconds() - t0) / 1e9;
        const c = process.cpuUsage(c0);
        const cpuSecondsPerGiB = (((c.user + c.system) / 1e6) * GIB) / bytes;
        const k = `${path} ${mode}`;
        const prev = best.get(k);
        if (!prev || cpuSecondsPerGiB < prev.cpuSecondsPerGiB)
          best.set(k, { recording: path, bytes, mode, cpuSecondsPerGiB, wallSeconds });
      }
    }
  }
  return [...best.values()];
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const { es, ts, recipe } = await benchRecordings(OUT);
  const recording = new Uint8Array(await Bun.file(es).arrayBuffer());
  const key = await importSessionKey(crypto.getRandomValues(new Uint8Array(32)));
  const plain = crypto.getRandomValues(new Uint8Array(64 * MIB));
  const sealInput = pieces(plain, READ_CHUNK);
  const sealRounds = Math.max(1, Math.round(SEAL_BYTES / plain.length));

  const rows: Measure[] = [];
  rows.push(
    await measure(
      "sealChunk, 1 MiB chunks (crypto/aead, WebCrypto AES-256-GCM)",
      sealRounds * plain.length,
      async () => {
        let i = 0;
        for (let r = 0; r < sealRounds; r++)
          for (const c of pieces(plain, MIB))
            await sealChunk(key, { context: "bench", stream: 1, index: i++ }, c);
      },
    ),
  );
  rows.push(
    await measure(
      "relay stream encoder, 1 MiB records (+SHA-256, framing)",
      sealRounds * plain.length,
      async () => {
        for (let r = 0; r < sealRounds; r++) {
          const enc = new RelayStreamEncoder(key, `bench${r}`, RELAY_STREAM_WHOLE);
          await enc.manifest({
            name: "bench",
            kind: "whole",
            size: plain.length,
            originalSize: plain.length,
            sha256: "0".repeat(64),
            recordingType: "data",
            secret: true,
            sender: "bench",
          });
          for (const c of sealInput) await enc.data(c);
          await enc.end();
        }
      },
    ),
  );
  rows.push(
    await measure("GMAC tag, 1 MiB clear frames (crypto/chunk-tag)", sealRounds * plain.length, async () => {
      let i = 0;
      for (let r = 0; r < sealRounds; r++)
        for (const c of pieces(plain, MIB))
          await tagChunk(key, { context: "bench", stream: 1, index: i++ }, c);
    }),
  );
  rows.push(
    await measure(
      "reference: SHA-256 node:crypto alone (the encoder's END hash)",
      sealRounds * plain.length,
      async () => {
        for (let r = 0; r < sealRounds; r++) {
          const h = createHash("sha256");
          for (const c of sealInput) h.update(c);
          h.digest();
        }
      },
    ),
  );
  const ossl128 = await opensslSpeed("aes-128-gcm");
  const ossl256 = await opensslSpeed("aes-256-gcm");
  rows.push(ossl128, ossl256);

  // The recording's own figures: index it once to know its split.
  const indexer = new RecordingIndexer();
  for (const c of pieces(recording, READ_CHUNK)) indexer.push(c);
  indexer.finish();
  const index = indexer.result();
  const protectedBytes = index.protectedRanges.reduce((n, r) => n + r.length, 0);

  const whole = await measure(
    "whole recording: SHA-256 + seal everything (secret route)",
    recording.length,
    async () => {
      const h = createHash("sha256");
      for (const c of pieces(recording, READ_CHUNK)) h.update(c);
      const digest = h.digest("hex");
      const enc = new RelayStreamEncoder(key, "whole", RELAY_STREAM_WHOLE);
      await enc.manifest({
        name: "bench.m2v",
        kind: "whole",
        size: recording.length,
        originalSize: recording.length,
        sha256: digest,
        recordingType: "es",
        secret: true,
        sender: "bench",
      });
      for (const c of pieces(recording, READ_CHUNK)) await enc.data(c);
      await enc.end();
    },
  );
  const selective = await measure(
    "selective: index + SHA-256, route, seal I-pictures, GMAC the rest (split route)",
    recording.length,
    async () => {
      const ix = new RecordingIndexer();
      const h = createHash("sha256");
      for (const c of pieces(recording, READ_CHUNK)) {
        ix.push(c);
        h.update(c);
      }
      ix.finish();
      const r = ix.result();
      const sha = h.digest();
      const headers = encodeSplitHeaders({
        container: r.container,
        originalLength: recording.length,
        sha256: sha,
        ranges: r.protectedRanges,
      });
      const router = new RangeRouter(r.protectedRanges, recording.length);
      const enc = new RelayStreamEncoder(key, "sel", RELAY_STREAM_PROTECTED);
      await enc.manifest({
        name: "bench.m2v",
        kind: "split-protected",
        size: headers.protected.length + protectedBytes,
        originalSize: recording.length,
        sha256: sha.toString("hex"),
        recordingType: "es",
        secret: false,
        sender: "bench",
      });
      await enc.data(headers.protected);
      // The direct part goes out as 1 MiB clear frames, each with a GMAC tag (what DirectConnection does).
      const frame = new Uint8Array(MIB + 1);
      let fill = 0;
      let index = 0;
      const flush = async () => {
        if (fill === 0) return;
        await tagChunk(key, { context: "sel", stream: 1, index: index++ }, frame.subarray(0, fill + 1));
        fill = 0;
      };
      for (const c of pieces(recording, READ_CHUNK)) {
        const routed = router.push(c);
        for (const p of routed.protected) await enc.data(p);
        for (const d of routed.direct) {
          let at = 0;
          while (at < d.length) {
            const k = Math.min(MIB - fill, d.length - at);
            frame.set(d.subarray(at, at + k), 1 + fill);
            fill += k;
            at += k;
            if (fill === MIB) await flush();
          }
        }
      }
      await flush();
      await enc.end();
    },
  );
  rows.push(whole, selective);

  const modes = await protectionModes([es, ts], key);
  const cpuOf = (rec: string, mode: ProtectionRun) =>
    modes.find((m) => m.recording === rec && m.mode === mode)?.cpuSecondsPerGiB ?? Number.NaN;
  const modeTable = formatTable(
    [
      "recording",
      "bytes",
      "seed CPU s/GiB",
      "pattern CPU s/GiB",
      "whole-file CPU s/GiB",
      "pattern/seed",
      "whole/seed",
    ],
    [es, ts].map((rec) => [
      rec.split("/").at(-1) ?? rec,
      String(Bun.file(rec).size),
      cpuOf(rec, "seed").toFixed(2),
      cpuOf(rec, "pattern").toFixed(2),
      cpuOf(rec, "whole").toFixed(2),
      (cpuOf(rec, "pattern") / cpuOf(rec, "seed")).toFixed(2),
      (cpuOf(rec, "whole") / cpuOf(rec, "seed")).toFixed(2),
    ]),
  );

  const table = formatTable(
    ["measure", "bytes", "best s", "MB/s", "CPU s/GiB"],
    rows.map((m) => [
      m.name,
      String(m.bytes),
      m.seconds.toFixed(3),
      m.mbps.toFixed(0),
      m.cpuSecondsPerGiB.toFixed(3),
    ]),
  );
  const sealer = rows[1] as Measure;
  const ratios = {
    relayEncoderOverOpensslAes256Gcm: sealer.mbps / ossl256.mbps,
    relayEncoderOverOpensslAes128Gcm: sealer.mbps / ossl128.mbps,
    selectiveCpuOverWholeCpu: selective.cpuSecondsPerGiB / whole.cpuSecondsPerGiB,
    protectedShareOfRecording: protectedBytes / recording.length,
  };
  console.log(
    `recording: ${es} (${recording.length} bytes, ${index.counts.I} I-pictures, ${(ratios.protectedShareOfRecording * 100).toFixed(1)}% protected bytes)`,
  );
  console.log(table);
  console.log(`\nsend-side CPU per protection mode (best of ${RUNS} interleaved rounds):\n${modeTable}\n`);
  console.log(
    formatTable(
      ["ratio", "value"],
      Object.entries(ratios).map(([k, v]) => [k, v.toFixed(2)]),
    ),
  );
  await writeFile(
    join(OUT, "encrypt.json"),
    `${JSON.stringify({ at: new Date().toISOString(), runs: RUNS, recording: { path: es, bytes: recording.length, protectedBytes, iPictures: index.counts.I }, recipe, rows, ratios, protectionModes: modes }, null, 2)}\n`,
  );
}

await main();

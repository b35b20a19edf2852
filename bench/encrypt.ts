/** @module Encrypt bench: the firmware's relay-stream sealing against openssl speed, the selective split pipeline against sealing everything, and the sender's CPU per GiB in each protection mode. */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import { RangeRouter } from "../codec/split/range-router.ts";
import { encodeSplitHeaders } from "../codec/split/split-format.ts";
import { importSessionKey, sealChunk } from "../crypto/aead.ts";
import { tagChunk } from "../crypto/chunk-tag.ts";
import { RELAY_STREAM_PROTECTED, RELAY_STREAM_WHOLE } from "../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../firmware/transfer/relay-stream-encoder.ts";
import { benchRecordings } from "./lib/bench-recordings.ts";
import { type Measure, measure, opensslSpeed } from "./lib/cipher-measure.ts";
import { formatTable } from "./lib/format-table.ts";
import { type ProtectionRun, protectionModes } from "./lib/send-side-cpu.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out");
const MIB = 1024 * 1024;
/** The firmware's read size (firmware/commands/recording-file.ts). */
const READ_CHUNK = 4 * MIB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SEAL_BYTES = Number(process.env.BENCH_SEAL_MIB ?? 256) * MIB;

function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const { es, ts, recipe } = await benchRecordings(OUT);
  const recording = new Uint8Array(await Bun.file(es).arrayBuffer());
  const key = await importSessionKey(crypto.getRandomValues(new Uint8Array(32)));
  const plain = crypto.getRandomValues(new Uint8Array(64 * MIB));
  const sealInput = pieces(plain, READ_CHUNK);
  const sealRounds = Math.max(1, Math.round(SEAL_BYTES / plain.length));

  /** One crypto/ call per 1 MiB chunk over the plain buffer, sealRounds times: the primitive alone. */
  const perChunk = (name: string, op: typeof sealChunk | typeof tagChunk) =>
    measure(name, sealRounds * plain.length, RUNS, async () => {
      let i = 0;
      for (let r = 0; r < sealRounds; r++)
        for (const c of pieces(plain, MIB)) await op(key, { context: "bench", stream: 1, index: i++ }, c);
    });

  const rows: Measure[] = [];
  rows.push(await perChunk("sealChunk, 1 MiB chunks (crypto/aead, WebCrypto AES-256-GCM)", sealChunk));
  rows.push(
    await measure(
      "relay stream encoder, 1 MiB records (+SHA-256, framing)",
      sealRounds * plain.length,
      RUNS,
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
  rows.push(await perChunk("GMAC tag, 1 MiB clear frames (crypto/chunk-tag)", tagChunk));
  rows.push(
    await measure(
      "reference: SHA-256 node:crypto alone (the encoder's END hash)",
      sealRounds * plain.length,
      RUNS,
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
    RUNS,
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
    RUNS,
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

  const modes = await protectionModes([es, ts], key, RUNS);
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

/** @module `npm run bench`: indexing throughput against memory copy, SHA-256 and ffmpeg's parser on the same 256 MiB+ recordings. */
import { createHash } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import { TsDemuxer } from "../codec/container/ts-demuxer.ts";
import { StartCodeScanner } from "../codec/mpeg-video/start-code-scanner.ts";
import { VideoIndexer } from "../codec/mpeg-video/video-indexer.ts";
import { readChunksIntoKernel } from "../firmware/files/recording-file.ts";
import { benchRecordings, broadcastRecordings } from "./lib/bench-recordings.ts";
import { fileHugePagesMiB } from "./lib/file-huge-pages.ts";
import { formatTable } from "./lib/format-table.ts";
import {
  measureProcess,
  measureProcessesInterleaved,
  measureSync,
  type Rate,
  roundRatios,
} from "./lib/measure.ts";
import { splitMergeRates } from "./lib/split-merge-rates.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out");
const BINARY = join(ROOT, "dist", "pvrlink-linux-x64");
/** The chunk size `pvrlink inspect` reads with (firmware/commands/recording-file.ts), used in-process too. */
const CHUNK = 4 * 1024 * 1024;
/** Best of RUNS: enough to step over a neighbour's burst on the shared 2-core machine, short enough to finish. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/**
 * Rounds of the whole-process comparison: a process that JIT-compiles on the second core varies more from run
 * to run than ffmpeg does (±15% against ±3% here), so the median of the per-round ratios needs more rounds.
 */
const PROCESS_ROUNDS = Math.max(RUNS, Number(process.env.BENCH_PROCESS_ROUNDS ?? 11));

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) out.push(bytes.subarray(at, at + CHUNK));
  return out;
}

function indexInProcess(pieces: Uint8Array[]): { pictures: number; errors: number } {
  const indexer = new RecordingIndexer();
  for (const c of pieces) indexer.push(c);
  if (indexer.finish().length > 0) throw new Error("bench: the indexer asked for ranges on a non-MP4 file");
  const r = indexer.result();
  return { pictures: r.counts.pic, errors: r.errors.length };
}

async function readFile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(path).arrayBuffer());
}

/** Reads the file the way inspect does (firmware/commands/recording-file.ts: blocking reads into the kernel's read area). */
async function readLikeInspect(path: string): Promise<number> {
  await using h = await open(path, "r");
  let n = 0;
  for (const chunk of readChunksIntoKernel(h)) n += chunk.length;
  return n;
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  console.log("bench: building dist/pvrlink-linux-x64");
  await $`${process.execPath} ${join(ROOT, "scripts", "build.ts")} x64`.cwd(ROOT).quiet();
  console.log("bench: preparing recordings in bench/out (once)");
  const rec = await benchRecordings(OUT);
  const broadcast = await broadcastRecordings(OUT);
  const rates: Record<string, Rate> = {};
  const add = (key: string, r: Rate) => {
    rates[key] = r;
    console.log(`  ${r.name}: ${r.mbps.toFixed(0)} MB/s`);
  };
  // Whole processes first, while this process is small and idle: measured after the in-process stages, the
  // children shared the machine with this process's own concurrent GC of its 1 GB of buffers. inspect and
  // ffmpeg run interleaved round by round, on both pairs of recordings; their untimed first round
  // (measureProcessesInterleaved) puts each file in the page cache for both.
  add("startup", await measureProcess("pvrlink --version (startup only)", 0, RUNS, [BINARY, "--version"]));
  const wholeFiles = [
    { key: "Es", label: "ES", path: rec.es, bytes: Bun.file(rec.es).size },
    { key: "Ts", label: "TS", path: rec.ts, bytes: Bun.file(rec.ts).size },
    { key: "BroadcastEs", label: "broadcast ES", path: broadcast.es, bytes: Bun.file(broadcast.es).size },
    { key: "BroadcastTs", label: "broadcast TS", path: broadcast.ts, bytes: Bun.file(broadcast.ts).size },
  ];
  const spreads: Record<string, [number, number, number]> = {};
  const hugePagesBefore = fileHugePagesMiB();
  for (const f of wholeFiles) {
    const [inspect, ffmpeg] = await measureProcessesInterleaved(
      [
        { name: `pvrlink inspect ${f.label} (process)`, bytes: f.bytes, cmd: [BINARY, "inspect", f.path] },
        {
          name: `ffmpeg -c copy -f null ${f.label} (process)`,
          bytes: f.bytes,
          cmd: ["ffmpeg", "-v", "error", "-i", f.path, "-c", "copy", "-f", "null", "-"],
        },
      ],
      PROCESS_ROUNDS,
    );
    add(`inspect${f.key}`, inspect!);
    add(`ffmpeg${f.key}`, ffmpeg!);
    spreads[`inspectOverFfmpeg${f.key}`] = roundRatios(ffmpeg!, inspect!);
  }

  const hugePagesAfter = fileHugePagesMiB();
  console.log(
    `  page cache in huge folios (FileHugePages) before/after the process rounds: ${hugePagesBefore ?? "?"} / ${hugePagesAfter ?? "?"} MiB`,
  );

  const es = await readFile(rec.es);
  const ts = await readFile(rec.ts);
  const esChunks = chunks(es);
  const tsChunks = chunks(ts);

  console.log(`bench: ES ${es.length} bytes, TS ${ts.length} bytes, best of ${RUNS}`);
  const copy = new Uint8Array(Math.max(es.length, ts.length));
  add(
    "memcpy",
    measureSync("memory copy (ES bytes)", es.length, RUNS, () => copy.set(es)),
  );
  add(
    "sliceCopy",
    measureSync("memory copy into a fresh buffer (ES bytes.slice())", es.length, RUNS, () => es.slice()),
  );
  add(
    "sha256",
    measureSync("SHA-256 node:crypto (ES bytes)", es.length, RUNS, () =>
      createHash("sha256").update(es).digest(),
    ),
  );
  let esResult = { pictures: 0, errors: 0 };
  add(
    "esIndex",
    measureSync(
      "ES indexing, RecordingIndexer in-process",
      es.length,
      RUNS,
      () => (esResult = indexInProcess(esChunks)),
    ),
  );
  let tsResult = { pictures: 0, errors: 0 };
  add(
    "tsIndex",
    measureSync(
      "TS indexing, RecordingIndexer in-process",
      ts.length,
      RUNS,
      () => (tsResult = indexInProcess(tsChunks)),
    ),
  );

  // Where the time goes: the stages the indexers are built from, each alone on the same bytes.
  let codes = 0;
  add(
    "esScan",
    measureSync("  stage: start-code scan only, WebAssembly kernel (ES)", es.length, RUNS, () => {
      const s = new StartCodeScanner(() => void codes++);
      for (const c of esChunks) s.push(c);
    }),
  );
  add(
    "esScanJs",
    measureSync("  stage: start-code scan only, JavaScript search (ES)", es.length, RUNS, () => {
      const s = new StartCodeScanner(() => void codes++, { kernel: "off" });
      for (const c of esChunks) s.push(c);
    }),
  );
  let prefixes = 0;
  const prefix = Buffer.from([0, 0, 1]);
  add(
    "esIndexOf",
    measureSync("  reference: Buffer.indexOf(00 00 01) loop (ES)", es.length, RUNS, () => {
      for (const c of esChunks) {
        const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        for (let i = b.indexOf(prefix); i >= 0; i = b.indexOf(prefix, i + 3)) prefixes++;
      }
    }),
  );
  // The scanner's own needle: the last two bytes of the prefix, then a check of the byte before.
  const zeroOne = Buffer.from([0, 1]);
  add(
    "esIndexOf2",
    measureSync("  reference: Buffer.indexOf(00 01) loop + check (ES)", es.length, RUNS, () => {
      for (const c of esChunks) {
        const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        for (let i = b.indexOf(zeroOne, 1); i >= 0; i = b.indexOf(zeroOne, i + 2))
          if (c[i - 1] === 0) prefixes++;
      }
    }),
  );
  add(
    "esVideo",
    measureSync("  stage: VideoIndexer alone (ES, no container detection)", es.length, RUNS, () => {
      const v = new VideoIndexer();
      for (const c of esChunks) v.push(c);
      v.end();
    }),
  );
  let videoBytes = 0;
  add(
    "tsDemux",
    measureSync(
      "  stage: TS demux only (packet walk + video blocks), no video parsing",
      ts.length,
      RUNS,
      () => {
        const d = new TsDemuxer({
          video: (_b, start, end) => {
            videoBytes += end - start;
          },
          videoBlock: (block) => {
            videoBytes += block.length;
          },
          error() {},
          format() {},
        });
        for (const c of tsChunks) d.push(c);
        d.end();
      },
    ),
  );
  add(
    "readEs",
    await (async () => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = Bun.nanoseconds();
        await readLikeInspect(rec.es);
        times.push((Bun.nanoseconds() - t0) / 1e9);
      }
      const seconds = Math.min(...times);
      return {
        name: "  stage: file read as inspect reads (blocking, 1 MiB reads into the kernel's memory, ES)",
        bytes: es.length,
        seconds,
        mbps: es.length / seconds / 1e6,
        runs: RUNS,
      };
    })(),
  );

  console.log("bench: split and merge of the TS");
  const sm = await splitMergeRates("TS", ts, rec.ts, BINARY, OUT, RUNS);
  for (const [k, v] of Object.entries(sm.rates)) add(k, v);

  const r = (k: string) => rates[k]!;
  const ratios = {
    esIndexOverMemcpy: r("esIndex").mbps / r("memcpy").mbps,
    tsIndexOverMemcpy: r("tsIndex").mbps / r("memcpy").mbps,
    sha256OverEsIndex: r("sha256").mbps / r("esIndex").mbps,
    ...Object.fromEntries(
      wholeFiles.map((f) => [
        `inspectOverFfmpeg${f.key}`,
        r(`ffmpeg${f.key}`).seconds / r(`inspect${f.key}`).seconds,
      ]),
    ),
  };
  const targets: Record<string, number> = { esIndexOverMemcpy: 0.5 };
  for (const f of wholeFiles) targets[`inspectOverFfmpeg${f.key}`] = 5;

  console.log(
    `\nParse bench (${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores, Bun ${Bun.version})`,
  );
  console.log(
    `ES: ${esResult.pictures} pictures, ${esResult.errors} errors; TS: ${tsResult.pictures} pictures, ${tsResult.errors} errors`,
  );
  console.log(
    formatTable(
      ["measure", "bytes", "best s", "MB/s"],
      Object.values(rates).map((x) => [
        x.name,
        String(x.bytes),
        x.seconds.toFixed(3),
        x.bytes ? x.mbps.toFixed(0) : "-",
      ]),
    ),
  );
  console.log();
  console.log(
    formatTable(
      ["ratio", "value", "rounds (low / median / high)", "target", "met"],
      Object.entries(ratios).map(([k, v]) => {
        const t = targets[k];
        const spread = spreads[k];
        return [
          k,
          v.toFixed(2),
          spread ? spread.map((x) => x.toFixed(2)).join(" / ") : "-",
          t === undefined ? "-" : `>= ${t}`,
          t === undefined ? "-" : v >= t ? "yes" : "NO",
        ];
      }),
    ),
  );
  const json = {
    date: new Date().toISOString(),
    bun: Bun.version,
    cores: navigator.hardwareConcurrency,
    runs: RUNS,
    files: {
      es: { path: rec.es, bytes: es.length, ...esResult },
      ts: { path: rec.ts, bytes: ts.length, ...tsResult },
    },
    recipe: rec.recipe,
    broadcast: { es: broadcast.es, ts: broadcast.ts, recipe: broadcast.recipe },
    rates,
    ratios,
    ratioRounds: spreads,
    targets,
    startCodes: codes / RUNS / 2,
    startCodePrefixes: prefixes / RUNS / 2,
    tsVideoBytes: videoBytes / RUNS,
    fileHugePagesMiB: { beforeProcessRounds: hugePagesBefore, afterProcessRounds: hugePagesAfter },
  };
  await Bun.write(join(OUT, "parse.json"), `${JSON.stringify(json, null, 2)}\n`);
  console.log("\nwrote bench/out/parse.json");
}

await main();

/** @module CPU cost of each protection mode on one recording held in memory: seed split + seal, pattern on top, whole-file sealing. */
import { createHash } from "node:crypto";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import { CbcsEsCipher } from "../../codec/pattern/cbcs-es-cipher.ts";
import { CbcsPatternCipher } from "../../codec/pattern/cbcs-pattern-cipher.ts";
import { EsPatternCipher } from "../../codec/pattern/es-pattern-cipher.ts";
import { PatternCipher } from "../../codec/pattern/pattern-cipher.ts";
import { encodePatternHeader } from "../../codec/pattern/pattern-header-encoder.ts";
import { encodePatternHeaderV3 } from "../../codec/pattern/pattern-header-v3.ts";
import type { PatternScheme } from "../../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../../codec/pattern/riding-pattern-planners.ts";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { encodeSplitHeaders } from "../../codec/split/split-format.ts";
import { importSessionKey, sealChunk } from "../../crypto/aead.ts";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { jitThreadCpuSeconds } from "./jit-thread-cpu.ts";

/** The chunk the split command reads with (firmware/commands/recording-file.ts). */
export const READ_CHUNK = 4 * 1024 * 1024;

/**
 * A recording held in memory: one array, or READ_CHUNK-sized arrays of their own (heldInChunks()). The runs
 * read it READ_CHUNK at a time either way; how it is held matters to the allocator: a live 60 MiB
 * ArrayBuffer made each MiB that node:crypto's update() returns cost ~5 ms more of CPU here (a replay of a
 * 60 MiB TS's cbcs cipher calls: 6 ms beside no large buffer, 30 ms beside one 60 MiB buffer, 8 ms beside
 * fifteen 4 MiB ones), and a sender never holds the file (it reads 1 MiB chunks into reused buffers).
 */
export type HeldRecording = Uint8Array | readonly Uint8Array[];

/** `bytes` copied into READ_CHUNK-sized arrays, each its own ArrayBuffer. */
export function heldInChunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += READ_CHUNK) out.push(bytes.slice(at, at + READ_CHUNK));
  return out;
}

function chunksOf(held: HeldRecording): readonly Uint8Array[] {
  if (!(held instanceof Uint8Array)) return held;
  const out: Uint8Array[] = [];
  for (let at = 0; at < held.length; at += READ_CHUNK) out.push(held.subarray(at, at + READ_CHUNK));
  return out;
}
/** The largest DATA frame body of the direct channel and the relay's chunk: what gets sealed at once. */
export const SEAL_CHUNK = 1024 * 1024;

export interface CostRun {
  /** User + system CPU seconds. */
  cpu: number;
  wall: number;
  /**
   * Of `cpu`, the seconds JavaScriptCore's compiler threads ran (jit-thread-cpu.ts): code tiering up during the
   * run, which a mode whose code reaches the optimising tiers later pays in later runs.
   */
  jit: number;
}

/** Seals a stream of pieces in SEAL_CHUNK blocks, as the relay upload would. */
class Sealer {
  #buf = new Uint8Array(SEAL_CHUNK);
  #fill = 0;
  #index = 0;
  sealed = 0;
  constructor(readonly key: CryptoKey) {}
  async add(piece: Uint8Array): Promise<void> {
    let at = 0;
    while (at < piece.length) {
      const n = Math.min(piece.length - at, SEAL_CHUNK - this.#fill);
      this.#buf.set(piece.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === SEAL_CHUNK) await this.flush();
    }
  }
  async flush(): Promise<void> {
    if (this.#fill === 0) return;
    const pos = { context: "bench", stream: 1, index: this.#index++ };
    this.sealed += (await sealChunk(this.key, pos, this.#buf.subarray(0, this.#fill))).length;
    this.#fill = 0;
  }
}

/**
 * Per-phase CPU ms and minor page faults (`pf:` + phase) of one splitCost() run, summed over its chunks: pass 1
 * (index + hash), plan (pattern plan, header, cipher set-up), and pass 2's copy, hash, route, seal and cipher.
 */
export type CostLaps = Record<string, number>;

/** Records phases into `laps` when given; a no-op otherwise, so runs without it measure exactly as before. */
function lapper(laps: CostLaps | undefined): (phase: string) => void {
  if (laps === undefined) return () => {};
  const now = () => {
    const c = process.cpuUsage();
    return { cpu: (c.user + c.system) / 1e3, pf: process.resourceUsage().minorPageFault };
  };
  let last = now();
  return (phase) => {
    const t = now();
    laps[phase] = (laps[phase] ?? 0) + t.cpu - last.cpu;
    laps[`pf:${phase}`] = (laps[`pf:${phase}`] ?? 0) + t.pf - last.pf;
    last = t;
  };
}

async function timed(fn: () => Promise<void>): Promise<CostRun> {
  // Every run starts from a collected heap, so no mode pays for collecting the garbage of the run before it
  // (a full collection lands on whichever run triggers it).
  Bun.gc(true);
  // Read outside the CPU window: the reads of /proc are not the run's.
  const jit0 = jitThreadCpuSeconds();
  const c0 = process.cpuUsage();
  const t0 = Bun.nanoseconds();
  await fn();
  const c = process.cpuUsage(c0);
  const wall = (Bun.nanoseconds() - t0) / 1e9;
  return { cpu: (c.user + c.system) / 1e6, wall, jit: jitThreadCpuSeconds() - jit0 };
}

/**
 * Seed mode as the sender runs it: pass 1 indexes and hashes; pass 2 copies each read chunk (the read), hashes
 * again, routes it, and seals the protected body for the relay. With `scheme`, pattern mode on top: the
 * planner rides pass 1's indexer, and pass 2 XORs the pattern keystream into the direct pieces in place.
 * `o.laps` collects each phase's CPU and page faults (CostLaps) for bench/pattern-cost-phases.ts.
 */
export async function splitCost(
  held: HeldRecording,
  sessionKey: Uint8Array,
  scheme?: PatternScheme,
  o: { esPlan?: boolean; laps?: CostLaps } = {},
): Promise<CostRun> {
  const key = await importSessionKey(sessionKey);
  const scratch = new Uint8Array(READ_CHUNK);
  const chunks = chunksOf(held);
  const length = chunks.reduce((a, c) => a + c.length, 0);
  return timed(async () => {
    const lap = lapper(o.laps);
    // Pattern mode's planners ride on pass 1's indexer (its start-code scan and ES -> file map) as the sender's
    // do (ridingPatternPlanners): slice-block in a PS/TS plans version 3 and cbcs version 4 unless `esPlan:
    // false` asks for versions 1 and 2.
    const planner = scheme
      ? ridingPatternPlanners(
          scheme.kind === "cbcs"
            ? { h264: scheme, esPlan: o.esPlan !== false }
            : { mpeg: scheme, esPlan: o.esPlan !== false },
        )
      : undefined;
    const indexer = planner?.indexer ?? new RecordingIndexer();
    const hash1 = createHash("sha256");
    for (const c of chunks) {
      indexer.push(c);
      hash1.update(c);
    }
    indexer.finish();
    const index = indexer.result();
    const sha256 = hash1.digest();
    lap("pass 1");
    const headers = encodeSplitHeaders({
      container: index.container,
      originalLength: length,
      sha256,
      ranges: index.protectedRanges,
    });
    let cipher: PatternCipher | CbcsPatternCipher | EsPatternCipher | CbcsEsCipher | undefined;
    if (planner && scheme) {
      const plan = planner.finish(index);
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const body = length - index.protectedRanges.reduce((a, r) => a + r.length, 0);
      if (plan.es)
        encodePatternHeaderV3({ plan: plan.es, salt, originalSha256: sha256, directBodyLength: body });
      else
        encodePatternHeader({
          scheme,
          salt,
          originalSha256: sha256,
          directBodyLength: body,
          ranges: plan.ranges,
          ...(plan.chainStarts ? { chainStarts: plan.chainStarts } : {}),
        });
      const es = plan.es;
      cipher = es
        ? es.scheme.kind === "cbcs"
          ? new CbcsEsCipher(
              { ...es, scheme: es.scheme },
              body,
              await makeCbcsTransform(sessionKey, salt, "encrypt"),
            )
          : new EsPatternCipher(es, body, await makePatternKeystream(sessionKey, salt))
        : scheme.kind === "cbcs"
          ? new CbcsPatternCipher(
              { ranges: plan.ranges, chainStarts: plan.chainStarts ?? [] },
              body,
              await makeCbcsTransform(sessionKey, salt, "encrypt"),
            )
          : new PatternCipher(
              { ranges: plan.ranges, scheme },
              body,
              await makePatternKeystream(sessionKey, salt),
            );
    }
    lap("plan");
    const router = new RangeRouter(index.protectedRanges, length);
    const hash2 = createHash("sha256");
    const sealer = new Sealer(key);
    for (const chunk of chunks) {
      scratch.set(chunk);
      const c = scratch.subarray(0, chunk.length);
      lap("copy");
      hash2.update(c);
      lap("hash");
      const routed = router.push(c);
      lap("route");
      for (const p of routed.protected) await sealer.add(p);
      lap("seal");
      // cbcs in ES coordinates takes the read's direct pieces at once (pushMany()), as the sender hands them.
      if (cipher instanceof CbcsEsCipher) cipher.pushMany(routed.direct);
      else if (cipher instanceof CbcsPatternCipher) for (const d of routed.direct) cipher.push(d);
      else if (cipher) for (const d of routed.direct) cipher.apply(d);
      lap("cipher");
    }
    router.finish();
    cipher?.finish();
    lap("cipher");
    await sealer.flush();
    lap("seal");
    hash2.digest();
    lap("hash");
    void headers;
  });
}

/** Whole-file encryption: every byte read and sealed in SEAL_CHUNK blocks (the "secret" attribute's path). */
export async function wholeFileCost(held: HeldRecording, sessionKey: Uint8Array): Promise<CostRun> {
  const key = await importSessionKey(sessionKey);
  const scratch = new Uint8Array(READ_CHUNK);
  const chunks = chunksOf(held);
  return timed(async () => {
    const sealer = new Sealer(key);
    for (const chunk of chunks) {
      scratch.set(chunk);
      await sealer.add(scratch.subarray(0, chunk.length));
    }
    await sealer.flush();
  });
}

/** Best (least disturbed) of n runs, by CPU time. */
export async function bestOf(n: number, fn: () => Promise<CostRun>): Promise<CostRun> {
  let best: CostRun | undefined;
  for (let i = 0; i < n; i++) {
    const r = await fn();
    if (best === undefined || r.cpu < best.cpu) best = r;
  }
  return best!;
}

/** @module The sender's CPU per GiB in each protection mode (seed, pattern, whole file), run with the firmware's own pieces. */
import { RangeRouter } from "../../codec/split/range-router.ts";
import { tagChunk } from "../../crypto/chunk-tag.ts";
import { DataFrameBatcher } from "../../firmware/direct/data-frame-batcher.ts";
import { openInput, readChunks } from "../../firmware/files/recording-file.ts";
import { encodeFromFile, manifestFor, STREAM_OF } from "../../firmware/send/relay-upload.ts";
import { planSend } from "../../firmware/send/send-plan.ts";
import { patternEncoder } from "../../firmware/send/split-pass.ts";
import { relayKey } from "../../firmware/transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../../firmware/transfer/relay-stream-encoder.ts";

const GIB = 1024 * 1024 * 1024;

export type ProtectionRun = "seed" | "pattern" | "whole";

/**
 * What `pvrlink send` spends CPU on for one recording in one protection mode, with the firmware's own pieces:
 * pass 1 is planSend() (read, index, SHA-256, and in pattern mode the PatternPlanner on the same chunks);
 * pass 2 reads the file again, routes with RangeRouter, seals the protected part with the RelayStreamEncoder,
 * runs the direct part through the PatternDirectEncoder (pattern) and GMAC-tags it in 1 MiB clear frames as
 * DirectConnection does. "whole" is the secret route: planSend's SHA-256 pass, then encodeFromFile() sealing
 * every byte. Sockets are left out: they cost the same in every mode.
 */
export async function sendSide(
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
    for await (const _ of encodeFromFile({ key: relay, sessionId: "bench" }, plan, {
      part: "whole",
      sender: "bench",
    })) {
      // the sealed records would go to the node
    }
    return;
  }
  const split = plan.split;
  if (!split) throw new Error(`bench: ${path} did not split`);
  if (mode === "pattern" && split.protection !== "pattern")
    throw new Error(`bench: ${path} has no pattern plan`);
  const enc = new RelayStreamEncoder(relay, "bench", STREAM_OF.protected);
  await enc.manifest(manifestFor(plan, { part: "protected", sender: "bench" }));
  await enc.data(split.protectedHeader);
  const pattern = split.pattern ? await patternEncoder(split.pattern, rawKey) : undefined;
  let index = 0;
  const frames = new DataFrameBatcher(async (m) => {
    await tagChunk(key, { context: "bench", stream: 1, index: index++ }, m.bytes);
  }, true);
  const direct = async (d: Uint8Array) => {
    if (!pattern) return frames.write(d);
    for (const out of await pattern.push(d)) await frames.write(out);
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
  await frames.flush();
  await enc.end();
}

export interface ModeFigure {
  recording: string;
  bytes: number;
  mode: ProtectionRun;
  /** Lowest process CPU (user + system) over the rounds, per GiB of recording. */
  cpuSecondsPerGiB: number;
  wallSeconds: number;
}

/** Rounds interleave the modes (seed, pattern, whole, seed, ...) so a busy moment on the shared box hits all. */
export async function protectionModes(
  recordings: string[],
  key: CryptoKey,
  runs: number,
): Promise<ModeFigure[]> {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const best = new Map<string, ModeFigure>();
  const modes: ProtectionRun[] = ["seed", "pattern", "whole"];
  for (let round = 0; round < runs; round++) {
    for (const path of recordings) {
      const bytes = Bun.file(path).size;
      for (const mode of modes) {
        // From a collected heap: no mode pays for collecting the run before it (as bench/lib/leak-cost.ts).
        Bun.gc(true);
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

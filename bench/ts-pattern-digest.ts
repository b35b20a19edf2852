/** @module `bun bench/ts-pattern-digest.ts [--spill] FILE...`: the SHA-256 of each MPEG-1/2 recording's whole pattern-mode direct part (split header, pattern header version 3, encrypted body) under a zero session key and salt, for checking that a change leaves every byte sent as it was; `--spill` sends the header from a spill file as a send does. */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { indexRecording } from "../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../codec/pattern/pattern-direct-encoder.ts";
import { ridingPatternPlanners } from "../codec/pattern/riding-pattern-planners.ts";
import { splitBytes } from "../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../codec/split/split-format.ts";
import { makePatternKeystream } from "../crypto/keystream.ts";
import { PlanSpillFiles } from "../firmware/send/plan-spill-file.ts";
import { READ_CHUNK } from "./lib/leak-cost.ts";

// bench/cbcs-digest.ts does the same for H.264 (version 4). The body goes in READ_CHUNK pieces; the bytes must not
// depend on how they are cut (the codec's tests check random cuts).

async function digest(path: string, spill: boolean): Promise<string> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const index = indexRecording(bytes);
  using files = new PlanSpillFiles(tmpdir());
  const riding = ridingPatternPlanners(spill ? { store: files.store } : {});
  for (let at = 0; at < bytes.length; at += READ_CHUNK)
    riding.indexer.push(bytes.subarray(at, at + READ_CHUNK));
  riding.indexer.finish();
  const plan = riding.finish(index);
  if (plan.es === undefined || plan.scheme.kind === "cbcs" || !plan.supported)
    throw new TypeError(`Cannot digest: ${path} has no MPEG-1/2 plan in ES coordinates (version 3)`);
  const salt = new Uint8Array(16);
  const encoder = new PatternDirectEncoder(
    { ...plan, ...(spill ? { headerSpill: files.header } : {}) },
    salt,
    await makePatternKeystream(new Uint8Array(32), salt),
  );
  const direct = splitBytes(bytes, index.protectedRanges, index.container).direct.slice();
  const header = peekSplitHeaderLength(direct) ?? 0;
  const hash = createHash("sha256");
  for (const out of encoder.pushPieces(direct.subarray(0, header), { reuse: true })) hash.update(out);
  for (let at = header; at < direct.length; at += READ_CHUNK)
    for (const out of await encoder.pushMany([direct.subarray(at, at + READ_CHUNK)])) hash.update(out);
  encoder.finish();
  return `${hash.digest("hex")} (pattern header ${encoder.addedBytes} bytes)`;
}

async function main(): Promise<void> {
  const spill = process.argv.includes("--spill");
  const files = process.argv.slice(2).filter((a) => a !== "--spill");
  if (files.length === 0) throw new TypeError("usage: bun bench/ts-pattern-digest.ts [--spill] RECORDING...");
  for (const file of files) console.log(`${file.split("/").pop()}: ${await digest(file, spill)}`);
}

if (import.meta.main) await main();

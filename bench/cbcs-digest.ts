/** @module `bun bench/cbcs-digest.ts [--spill] FILE...`: the SHA-256 of each recording's whole H.264 cbcs direct part (split header, pattern header, encrypted body) under a zero session key and salt, for checking that a change to the cbcs planner or cipher leaves every byte sent as it was; `--spill` keeps the plan and header in spill files as a send does. */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { indexRecording } from "../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../codec/pattern/pattern-direct-encoder.ts";
import { DEFAULT_H264_PATTERN_SCHEME } from "../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../codec/pattern/riding-pattern-planners.ts";
import { splitBytes } from "../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../codec/split/split-format.ts";
import { makeCbcsTransform } from "../crypto/cbcs-cipher.ts";
import { PlanSpillFiles } from "../firmware/send/plan-spill-file.ts";
import { READ_CHUNK } from "./lib/leak-cost.ts";

// bench/cbcs-cost-parts.ts prints the body's digest only; this covers the headers too. The body goes in
// READ_CHUNK pieces through pushMany(); the bytes must not depend on how they are cut (the codec's tests check
// random cuts).

async function digest(path: string, spill: boolean): Promise<string> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const index = indexRecording(bytes);
  using files = new PlanSpillFiles(tmpdir());
  const riding = ridingPatternPlanners({
    h264: DEFAULT_H264_PATTERN_SCHEME,
    ...(spill ? { store: files.store } : {}),
  });
  for (let at = 0; at < bytes.length; at += READ_CHUNK)
    riding.indexer.push(bytes.subarray(at, at + READ_CHUNK));
  riding.indexer.finish();
  const plan = riding.finish(index);
  if (plan.scheme.kind !== "cbcs" || !plan.supported)
    throw new TypeError(`Cannot digest cbcs: ${path} has no H.264 cbcs plan`);
  const salt = new Uint8Array(16);
  const encoder = new PatternDirectEncoder(
    { ...plan, ...(spill ? { headerSpill: files.header } : {}) },
    salt,
    {
      cbcs: await makeCbcsTransform(new Uint8Array(32), salt, "encrypt"),
    },
  );
  const direct = splitBytes(bytes, index.protectedRanges, index.container).direct.slice();
  const header = peekSplitHeaderLength(direct) ?? 0;
  const hash = createHash("sha256");
  for (const out of await encoder.push(direct.subarray(0, header))) hash.update(out);
  for (let at = header; at < direct.length; at += READ_CHUNK)
    for (const out of await encoder.pushMany([direct.subarray(at, at + READ_CHUNK)])) hash.update(out);
  encoder.finish();
  return `${hash.digest("hex")} (${plan.encryptedBytes} bytes encrypted)`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const spill = args.includes("--spill");
  const files = args.filter((a) => a !== "--spill");
  if (files.length === 0) throw new TypeError("usage: bun bench/cbcs-digest.ts [--spill] RECORDING...");
  for (const file of files) console.log(`${file.split("/").pop()}: ${await digest(file, spill)}`);
}

if (import.meta.main) await main();

/** @module Tests of the cbcs-protected MP4: ffmpeg decrypts it to the original's frames with the key and not without, ffprobe sees the protection boxes, our own decrypt gives the original bytes back, damage gives one error code. */
import { describe, expect, test } from "bun:test";
import { createSecretKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { x264Testsrc } from "../../test/support/x264-testsrc.ts";
import { CodecError } from "../codec-error.ts";
import { CbcsPatternCipher } from "../pattern/cbcs-pattern-cipher.ts";
import { assembleMp4Cbcs, type Mp4CbcsPlan, planMp4Cbcs } from "./mp4-cbcs-protection.ts";

const FFMPEG = Bun.which("ffmpeg");
const FFPROBE = Bun.which("ffprobe");
const TESTDATA = join(import.meta.dir, "../../testdata/containers");
const KEY = Buffer.from("00112233445566778899aabbccddeeff", "hex");
const IV = Buffer.from("0f0e0d0c0b0a09080706050403020100", "hex");
const KID = new Uint8Array(16).fill(0x42);

function transform(bytes: Uint8Array, plan: Mp4CbcsPlan, direction: "encrypt" | "decrypt"): Uint8Array {
  const out = bytes.slice();
  const c = new CbcsPatternCipher(plan, out.length, cbcsTransform(createSecretKey(KEY), IV, direction));
  const parts = c.push(out);
  c.finish();
  expect(parts.reduce((n, p) => n + p.length, 0)).toBe(out.length);
  return out;
}

function protect(bytes: Uint8Array): { plan: Mp4CbcsPlan; file: Uint8Array } {
  const plan = planMp4Cbcs(bytes, { keyId: KID, constantIv: IV });
  return { plan, file: assembleMp4Cbcs(transform(bytes, plan, "encrypt"), plan) };
}

function framemd5(file: string, key?: Buffer): { md5: string; errors: string } {
  const r = Bun.spawnSync([
    FFMPEG!,
    "-v",
    "error",
    ...(key ? ["-decryption_key", key.toString("hex")] : []),
    "-i",
    file,
    "-map",
    "0:v",
    "-f",
    "framemd5",
    "-",
  ]);
  return { md5: r.stdout.toString(), errors: r.stderr.toString() };
}

const SOURCES: Array<[string, string[] | string]> = [
  ["testdata mp4-h264.mp4", join(TESTDATA, "mp4-h264.mp4")],
  ["testdata mp4-h264-faststart.mp4", join(TESTDATA, "mp4-h264-faststart.mp4")],
  [
    "CAVLC, B slices, weighted prediction, 4 slices a picture",
    ["-coder", "0", "-bf", "2", "-weightp", "2", "-slices", "4"],
  ],
  ["CABAC, 3 slices a picture, faststart", ["-slices", "3", "-movflags", "+faststart"]],
  // 30 slices a picture need 60 subsamples with a tail block each, past saiz's 42: the plain pattern instead.
  [
    "CAVLC, 30 slices a picture (too many for a tail subsample each)",
    ["-coder", "0", "-x264-params", "slice-max-mbs=10"],
  ],
];

describe.skipIf(!FFMPEG || !FFPROBE)("planMp4Cbcs() against ffmpeg 5.1's cbcs decryption", () => {
  for (const [name, source] of SOURCES) {
    test(`ffmpeg -decryption_key decodes the cbcs file to the original's frames, and not without it: ${name}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "pvrlink-cbcs-"));
      try {
        const original = typeof source === "string" ? source : join(dir, "made.mp4");
        if (typeof source !== "string") {
          const made = x264Testsrc(FFMPEG!, 2, ["-g", "12", ...source, original]);
          expect(made.exitCode).toBe(0);
        }
        const bytes = new Uint8Array(readFileSync(original));
        const { plan, file } = protect(bytes);
        expect(plan.clearSlices).toBe(0);
        expect(plan.chainStarts.length).toBeGreaterThanOrEqual(plan.samples);
        const encrypted = join(dir, "cbcs.mp4");
        writeFileSync(encrypted, file);
        const reference = framemd5(original);
        const withKey = framemd5(encrypted, KEY);
        expect(withKey.errors).toBe("");
        expect(withKey.md5).toBe(reference.md5);
        const withoutKey = framemd5(encrypted);
        const same = withoutKey.md5
          .split("\n")
          .filter((l) => reference.md5.includes(l) && !l.startsWith("#"));
        // Every frame differs without the key (the I frames too: every slice is encrypted here).
        expect(same.filter((l) => l.trim() !== "").length).toBe(0);
        const trace = Bun.spawnSync([FFPROBE!, "-v", "trace", encrypted]).stderr.toString();
        for (const type of ["sinf", "frma", "schm", "tenc", "saiz", "saio", "senc"]) {
          expect(trace).toContain(`type:'${type}'`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("planMp4Cbcs()", () => {
  const bytes = new Uint8Array(readFileSync(join(TESTDATA, "mp4-h264.mp4")));

  test("planMp4Cbcs() decrypted by our own cipher gives the original bytes back", () => {
    const { plan, file } = protect(bytes);
    const back = transform(file.subarray(0, bytes.length), plan, "decrypt");
    back.set(new TextEncoder().encode("moov"), plan.moov.offset + 4);
    expect(back).toEqual(bytes);
    // About a tenth of the slice data, in whole blocks.
    const encrypted = plan.ranges.reduce((n, r) => n + r.length, 0);
    expect(encrypted % 16).toBe(0);
    expect(encrypted).toBeLessThan(bytes.length * 0.1);
    expect(encrypted).toBeGreaterThan(bytes.length * 0.05);
  });

  test("planMp4Cbcs() rejects a file with no moov, and keys of the wrong size, with ERR_MP4_CBCS", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as CodecError).code;
      }
      return "no error";
    };
    expect(code(() => planMp4Cbcs(bytes.subarray(0, 100), { keyId: KID, constantIv: IV }))).toMatch(
      /ERR_MP4_(CBCS|BOX)/,
    );
    expect(code(() => planMp4Cbcs(bytes, { keyId: KID.subarray(0, 8), constantIv: IV }))).toBe(
      "ERR_MP4_CBCS",
    );
  });

  test("planMp4Cbcs() gives a plan or a CodecError for every truncation and for random damage", () => {
    const rand = new SeededRandom(31);
    const inputs: Uint8Array[] = [];
    for (let k = 0; k < 40; k++) inputs.push(bytes.subarray(0, rand.below(bytes.length)));
    for (let k = 0; k < 300; k++) {
      const bad = bytes.slice();
      for (let f = 0; f < 3; f++) bad[rand.below(bad.length)]! ^= 1 << rand.below(8);
      inputs.push(bad);
    }
    for (const input of inputs) {
      try {
        const plan = planMp4Cbcs(input, { keyId: KID, constantIv: IV });
        for (const r of plan.ranges) expect(r.offset + r.length).toBeLessThanOrEqual(input.length);
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
      }
    }
  });
});

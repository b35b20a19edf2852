/** @module Tests for patternDecoded() (the pattern-mode direct part decoded for the merger, its frames released once merged) and relayPayload()'s release. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodecError } from "../../codec/codec-error.ts";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { PATTERN_VERSION, PATTERN_VERSION_SEGMENTED } from "../../codec/pattern/pattern-header.ts";
import { PATTERN_HEADER_V5_BYTES } from "../../codec/pattern/pattern-header-v5.ts";
import { type PatternPlan, planPattern } from "../../codec/pattern/pattern-planner.ts";
import { DEFAULT_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../../codec/pattern/riding-pattern-planners.ts";
import { concat, splitBytes } from "../../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { openHeaderSpills } from "../../test/support/open-header-spills.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import type { RelayManifest, RelayRecord } from "../transfer/relay-stream.ts";
import { IncomingFile } from "./incoming-file.ts";
import { patternDecoded, relayPayload } from "./payload-bytes.ts";
import { SplitAssembly } from "./split-assembly.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-payload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 5 + 3);
const SALT = new Uint8Array(16).map((_, i) => i + 40);

/** Each chunk a buffer of its own, as a DATA frame's payload is: only such a chunk can be released. */
async function* frames(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

/**
 * A fixture's parts, the direct one in its pattern-mode wire form (an ES in `esVersion`, 5 or 1; a PS/TS in
 * version 3), and the wire's stretches that are not body: the headers, and in version 5 each segment.
 */
async function wireParts(bytes: Uint8Array, esVersion = PATTERN_VERSION_SEGMENTED) {
  const index = indexRecording(bytes);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  let plan: PatternPlan & { version?: number } = {
    ...planPattern(bytes, index, DEFAULT_PATTERN_SCHEME),
    version: esVersion,
  };
  if (index.container !== "es") {
    const riding = ridingPatternPlanners();
    riding.indexer.push(bytes);
    plan = riding.finish(index);
  }
  const enc = new PatternDirectEncoder(plan, SALT, await makePatternKeystream(SESSION_KEY, SALT));
  const sent = concat(await enc.push(parts.direct.slice()));
  enc.finish();
  const splitLength = peekSplitHeaderLength(parts.direct)!;
  const version = sent[splitLength + 8];
  const meta: Array<[number, number]> = [];
  if (version !== PATTERN_VERSION_SEGMENTED) meta.push([0, splitLength + enc.addedBytes]);
  else {
    // The segments' own length (bytes 4-7) and body end (8-15) fields, docs/split-format.md.
    // Segment 0 follows the header at once: one stretch of the wire with it.
    let at = splitLength + PATTERN_HEADER_V5_BYTES;
    const v = new DataView(sent.buffer, sent.byteOffset);
    for (let body = 0, first = true; first || body < parts.direct.length - splitLength; first = false) {
      const end = Number(v.getBigUint64(at + 8));
      meta.push([first ? 0 : at, at + v.getUint32(at + 4)]);
      at += v.getUint32(at + 4) + end - body;
      body = end;
    }
  }
  return { parts, sent, version, meta };
}

describe("patternDecoded()", () => {
  // MPEG-1/2 video, what slice-block pattern mode plans (H.264's cbcs ciphers hand on blocks, not frames).
  const fixtures = patternFixtures().filter(([, bytes]) => /^mpeg[12]$/.test(indexRecording(bytes).format));
  test("the fixtures include an ES (pattern header version 5, or 1) and a PS or TS (version 3)", async () => {
    const versions = new Set<number | undefined>();
    for (const [, bytes] of fixtures) versions.add((await wireParts(bytes)).version);
    for (const [, bytes] of fixtures) versions.add((await wireParts(bytes, PATTERN_VERSION)).version);
    expect([...versions].sort()).toEqual([1, 3, 5]);
  });

  const cases: Array<[string, Uint8Array, number]> = fixtures.flatMap(([name, bytes]) =>
    indexRecording(bytes).container === "es"
      ? [PATTERN_VERSION_SEGMENTED, PATTERN_VERSION].map((v): [string, Uint8Array, number] => [
          `${name}, version ${v}`,
          bytes,
          v,
        ])
      : [[name, bytes, PATTERN_VERSION_SEGMENTED]],
  );
  for (const [name, bytes, esVersion] of cases) {
    test(`patternDecoded() releases the headers' frames and hands on each body frame itself, for SplitAssembly to release once merged: ${name}`, async () => {
      const { parts, sent, meta } = await wireParts(bytes, esVersion);
      const given = new Set<Uint8Array>();
      async function* source() {
        for await (const f of frames(sent, 700)) {
          given.add(f);
          yield f;
        }
      }
      let frameItself = 0;
      async function* handedOn(decoded: AsyncIterable<Uint8Array>) {
        for await (const c of decoded) {
          if (given.has(c)) frameItself++;
          yield c;
        }
      }
      const out = await IncomingFile.create(join(dir, `f${++n}.part`));
      const assembly = new SplitAssembly(out);
      let released = 0;
      // As DirectConnection.releaseData() does: only a frame it handed out is freed (detached: every view of it
      // reads nothing after), anything else is left alone.
      const release = (c: Uint8Array) => {
        if (!given.has(c)) return;
        (c.buffer as ArrayBuffer).transfer(0);
        released++;
      };
      const results = await Promise.allSettled([
        assembly.feed("protected", frames(parts.protected, 333)),
        assembly.feed("direct", handedOn(patternDecoded(source(), SESSION_KEY, { release })), {
          release,
        }),
        assembly.finished,
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      expect(await out.finish()).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(Buffer.from(readFileSync(out.path)).equals(bytes)).toBe(true);
      // Every frame with no header or segment byte is whole body, decrypted in place, handed on and released.
      const frameSpans = Array.from({ length: Math.ceil(sent.length / 700) }, (_, i) => [
        i * 700,
        Math.min(sent.length, i * 700 + 700),
      ]);
      const bodyFrames = frameSpans.filter(([a, b]) => meta.every(([m, e]) => b! <= m || a! >= e)).length;
      expect(frameItself).toBe(bodyFrames);
      // Frames wholly inside the headers (or a segment) are copied out and released by patternDecoded() at once;
      // body frames by the assembly once merged, but for the last ones, which the merger may still hold when the
      // direct part ends (it waits for the protected part): those go to the collector. A frame with both goes to
      // the collector too (the body handed on is a view of it).
      const headerFrames = frameSpans.filter(([a, b]) => meta.some(([m, e]) => a! >= m && b! <= e)).length;
      expect(released).toBeGreaterThanOrEqual(headerFrames + bodyFrames - 2);
      expect(released).toBeLessThanOrEqual(headerFrames + bodyFrames);
    });
  }
});

describe("patternDecoded() with a spillDir", () => {
  const ts = patternFixtures().find(([name]) => name.endsWith(".ts") && !name.includes("h264"));
  /** What the decoder gives for `sent` in 900-byte frames, stopping after `take` chunks out if given. */
  async function decode(sent: Uint8Array, o: { take?: number; spillDir?: string } = {}) {
    const out: Uint8Array[] = [];
    for await (const c of patternDecoded(frames(sent, 900), SESSION_KEY, o)) {
      out.push(c.slice());
      if (o.take !== undefined && out.length >= o.take) break;
    }
    return concat(out);
  }
  const codeOf = (err: unknown) => (err instanceof CodecError ? err.code : String(err));

  test("the fixture is a TS, sent as pattern header version 3", async () => {
    expect(ts).toBeDefined();
    expect((await wireParts(ts![1])).version).toBe(3);
  });

  const cases: Array<{
    name: string;
    wire: (sent: Uint8Array, splitLength: number) => Uint8Array;
    take?: number;
    error?: string;
  }> = [
    { name: "gives the plain direct part, as without it", wire: (s) => s },
    {
      name: "rejects a header byte flipped with ERR_PATTERN_HEADER_DIGEST",
      wire: (s, at) => s.map((b, i) => (i === at + 200 ? b ^ 4 : b)),
      error: "ERR_PATTERN_HEADER_DIGEST",
    },
    {
      name: "rejects a part that ends inside the header with ERR_PATTERN_TRUNCATED",
      wire: (s, at) => s.slice(0, at + 300),
      error: "ERR_PATTERN_TRUNCATED",
    },
    { name: "stops when its consumer does (an aborted receive)", wire: (s) => s, take: 3 },
  ];
  for (const c of cases) {
    test(`patternDecoded() with a spillDir ${c.name}, and leaves no spill file`, async () => {
      const { parts, sent } = await wireParts(ts![1]);
      const splitLength = peekSplitHeaderLength(parts.direct)!;
      const spillDir = mkdtempSync(join(dir, "spill-"));
      const before = openHeaderSpills();
      const run = decode(c.wire(sent, splitLength), { spillDir, ...(c.take ? { take: c.take } : {}) });
      if (c.error !== undefined) expect(await run.then(() => "no error", codeOf)).toBe(c.error);
      else {
        const got = await run;
        if (c.take === undefined) {
          expect(Buffer.from(got).equals(Buffer.from(parts.direct))).toBe(true);
          expect(Buffer.from(await decode(sent)).equals(Buffer.from(got))).toBe(true);
        } else expect(got.length).toBeGreaterThan(splitLength);
      }
      expect(openHeaderSpills()).toBe(before);
      expect(readdirSync(spillDir)).toEqual([]);
    });
  }

  test("patternDecoded() with a spillDir that is not there fails the part with ENOENT", async () => {
    const { sent } = await wireParts(ts![1]);
    expect(await decode(sent, { spillDir: join(dir, "missing") }).then(() => "no error", codeOf)).toContain(
      "ENOENT",
    );
  });
});

describe("relayPayload()", () => {
  const MIB = 1024 * 1024;
  const MANIFEST = { name: "rec.m2v", kind: "split-protected", size: 1 } as unknown as RelayManifest;
  /** An opened record: type byte || body, in a buffer of its own, as WebCrypto's decrypt gives it. */
  const opened = (n: number) => new Uint8Array(1 + n).fill(7);
  const cases: Array<{ name: string; bytes: () => Uint8Array; freed: boolean }> = [
    {
      name: "frees a DATA body, the whole record after its type byte",
      bytes: () => opened(MIB).subarray(1),
      freed: true,
    },
    {
      name: "leaves a view that starts at the record's first byte",
      bytes: () => opened(MIB).subarray(0, MIB),
      freed: false,
    },
    {
      name: "leaves a view that ends before the record does",
      bytes: () => opened(MIB).subarray(1, MIB),
      freed: false,
    },
    {
      name: "leaves a buffer of its own (not a record's body)",
      bytes: () => new Uint8Array(MIB),
      freed: false,
    },
  ];
  for (const c of cases) {
    test(`relayPayload()'s release ${c.name}`, async () => {
      const bytes = c.bytes();
      async function* records(): AsyncGenerator<RelayRecord> {
        yield { type: "manifest", manifest: MANIFEST };
        yield { type: "data", bytes };
      }
      const p = await relayPayload(records(), "tr_test");
      const got: Uint8Array[] = [];
      for await (const b of p.data(() => {})) got.push(b);
      expect(got).toEqual([bytes]);
      const length = bytes.byteLength;
      expect(p.release(bytes)).toBe(c.freed);
      expect(bytes.byteLength).toBe(c.freed ? 0 : length);
    });
  }
});

/** @module Tests of patternFor(): the plan's header version against what a real callee's ACCEPTED lists, on real plans of every pattern-mode container; sealed whenever the callee cannot read it. */
import { beforeAll, describe, expect, test } from "bun:test";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  PATTERN_MAGIC,
  PATTERN_VERSION_CBCS_ES,
  PATTERN_VERSION_CHAINS,
  PATTERN_VERSION_ES,
  PATTERN_VERSION_SEGMENTED,
  PATTERN_VERSIONS_READ,
} from "../../codec/pattern/pattern-header.ts";
import { dialOptions, startKit } from "../../test/support/direct-test-kit.ts";
import { dialDirect } from "../direct/direct-dial.ts";
import { patternFor } from "./pattern-for-callee.ts";
import type { SendContext } from "./send-context.ts";
import { planSend, type SplitPlanParts } from "./send-plan.ts";
import type { SendResult } from "./send-result.ts";

const ROOT = join(import.meta.dir, "../..");

/** One fixture per plan the sender makes (docs/protocol.md section 12.5); `version`: its preferred header version. */
const FIXTURES = {
  "MPEG-2 ES": { file: "testdata/es/mpeg2-gop15.m2v", version: PATTERN_VERSION_SEGMENTED },
  "MPEG-2 TS": { file: "testdata/containers/ts-mpeg2.ts", version: PATTERN_VERSION_ES },
  "H.264 TS": { file: "testdata/containers/ts-h264.ts", version: PATTERN_VERSION_CBCS_ES },
  "H.264 MP4": { file: "testdata/containers/mp4-h264.mp4", version: PATTERN_VERSION_CHAINS },
} as const;
type Kind = keyof typeof FIXTURES;

const splits = new Map<Kind, SplitPlanParts>();

/** A fresh send plan's split: an encoder patternFor() makes takes an ES plan's runs, so a plan makes one. */
async function planSplit(kind: Kind): Promise<SplitPlanParts> {
  const path = join(ROOT, FIXTURES[kind].file);
  await using handle = await open(path);
  const plan = await planSend(handle, path, { protection: "pattern" });
  if (!plan.split?.pattern) throw new Error(`${path} planned no pattern mode`);
  return plan.split;
}

beforeAll(async () => {
  for (const kind of Object.keys(FIXTURES) as Kind[]) splits.set(kind, await planSplit(kind));
});

/** The parts of a send's context patternFor reads and writes, around a real connection (or none). */
function contextOf(conn: SendContext["conn"], key: string) {
  const logs: string[] = [];
  const ctx = {
    conn,
    session: { key },
    callee: { name: "bob" },
    result: {} as Partial<SendResult>,
    sealInstead: false,
    log: (m: string) => logs.push(m),
  };
  return { ctx, logs, send: ctx as unknown as SendContext };
}

/** The version byte of the pattern header an encoder writes after the split header. */
async function headerVersion(
  encoder: NonNullable<Awaited<ReturnType<typeof patternFor>>>,
  split: SplitPlanParts,
) {
  const out = Buffer.concat(await encoder.push(split.directHeader));
  const magic = out.indexOf(Buffer.from(PATTERN_MAGIC));
  expect(magic).toBe(split.directHeader.byteLength);
  return out[magic + PATTERN_MAGIC.byteLength];
}

// Each row: what the callee's ACCEPTED lists (undefined: no patternVersions field, an older callee) and the
// kinds whose plan it can read, with the header version each is written in (the MPEG-2 ES's version 5 plan goes
// as version 1 to a callee from before version 5); every other kind must go sealed.
const callees: Array<{
  who: string;
  listed: readonly number[] | undefined;
  reads: Partial<Record<Kind, number>>;
}> = [
  {
    who: "a current callee [1,2,3,4,5]",
    listed: PATTERN_VERSIONS_READ,
    reads: { "MPEG-2 ES": 5, "MPEG-2 TS": 3, "H.264 TS": 4, "H.264 MP4": 2 },
  },
  {
    who: "a callee before version 5 [1,2,3,4]",
    listed: [1, 2, 3, 4],
    reads: { "MPEG-2 ES": 1, "MPEG-2 TS": 3, "H.264 TS": 4, "H.264 MP4": 2 },
  },
  {
    who: "a callee before version 4 [1,2,3]",
    listed: [1, 2, 3],
    reads: { "MPEG-2 ES": 1, "MPEG-2 TS": 3, "H.264 MP4": 2 },
  },
  { who: "a callee before version 3 [1,2]", listed: [1, 2], reads: { "MPEG-2 ES": 1, "H.264 MP4": 2 } },
  { who: "a callee that reads version 5 only [5]", listed: [5], reads: { "MPEG-2 ES": 5 } },
  { who: "a callee that lists no version []", listed: [], reads: {} },
  { who: "a callee that sends no list (reads version 1 only)", listed: undefined, reads: { "MPEG-2 ES": 1 } },
];

describe("patternFor()", () => {
  for (const c of callees)
    for (const kind of Object.keys(FIXTURES) as Kind[]) {
      const written = c.reads[kind];
      const readable = written !== undefined;
      const version = FIXTURES[kind].version;
      test(`patternFor() with ${c.who} and an ${kind} (version ${version}): ${readable ? `pattern, version ${written}` : "sealed"}`, async () => {
        await using kit = await startKit(c.listed === undefined ? {} : { patternVersions: c.listed });
        const t = kit.ticket();
        const conn = await dialDirect(dialOptions(kit.listener.port, t));
        try {
          const split = await planSplit(kind);
          const { ctx, logs, send } = contextOf(conn, t.key);
          const encoder = await patternFor(send, split);
          if (readable) {
            expect(encoder).toBeDefined();
            expect(await headerVersion(encoder!, split)).toBe(written);
            expect({ sealInstead: ctx.sealInstead, protection: ctx.result.protection }).toEqual({
              sealInstead: false,
              protection: undefined,
            });
            expect(ctx.result.patternBytes).toBe(split.pattern!.encryptedBytes);
            expect(logs).toEqual([]);
          } else {
            expect(encoder).toBeUndefined();
            expect({ sealInstead: ctx.sealInstead, protection: ctx.result.protection }).toEqual({
              sealInstead: true,
              protection: "sealed",
            });
            expect(ctx.result.patternBytes).toBeUndefined();
            expect(logs.join("\n")).toContain("cannot read this pattern header (version ");
            expect(logs.join("\n")).toContain(`${version}`);
          }
        } finally {
          conn.close();
        }
      });
    }

  for (const kind of ["MPEG-2 TS", "H.264 TS"] as const)
    test(`patternFor() takes an ${kind} plan's unit runs: they are freed, and a second encoder of the plan is a TypeError`, async () => {
      await using kit = await startKit({ patternVersions: PATTERN_VERSIONS_READ });
      const t = kit.ticket();
      const conn = await dialDirect(dialOptions(kit.listener.port, t));
      try {
        const split = await planSplit(kind);
        const es = split.pattern!.es!;
        expect((es.runs as Float64Array).length).toBeGreaterThan(0);
        const encoder = await patternFor(contextOf(conn, t.key).send, split);
        expect(await headerVersion(encoder!, split)).toBe(FIXTURES[kind].version);
        expect((es.runs as Float64Array).length).toBe(0);
        await expect(patternFor(contextOf(conn, t.key).send, split)).rejects.toThrow(TypeError);
      } finally {
        conn.close();
      }
    });

  test("patternFor() without a direct channel (relay fallback) makes no encoder: the part is sealed through the node", async () => {
    for (const kind of Object.keys(FIXTURES) as Kind[]) {
      const { ctx, logs, send } = contextOf(undefined, "");
      expect(await patternFor(send, splits.get(kind)!)).toBeUndefined();
      expect([ctx.sealInstead, ctx.result.protection]).toEqual([false, undefined]);
      expect(logs.join()).toContain("sealed through the node");
    }
  });

  test("patternFor() of a split without a pattern plan (seed or sealed asked for) makes no encoder and says nothing", async () => {
    await using kit = await startKit({ patternVersions: [] });
    const t = kit.ticket();
    const conn = await dialDirect(dialOptions(kit.listener.port, t));
    const { pattern: _, ...seedSplit } = splits.get("H.264 TS")!;
    const { ctx, logs, send } = contextOf(conn, t.key);
    expect(await patternFor(send, seedSplit)).toBeUndefined();
    expect([ctx.sealInstead, ctx.result.protection, logs]).toEqual([false, undefined, []]);
    conn.close();
  });
});

/** @module Tests of ReceiveResume: which OFFERs a resume admits, where a resumed stream may start, and which failures are kept. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OfferMessage } from "../direct/direct-message.ts";
import { Library } from "../library/library.ts";
import { readOfferTerms } from "./offer-terms.ts";
import { type PartialKey, PartialReceives, partialShape } from "./partial-receives.ts";
import { ReceiveFailure } from "./receive-failure.ts";
import { ReceiveResume } from "./receive-resume.ts";
import { SessionWork } from "./session-work.ts";

const BYTES = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
const SHA = createHash("sha256").update(BYTES).digest("hex");
const CALLER = "dev_alice";
const SHAPE = partialShape({ kind: "data", size: 1000, protection: "sealed" });
const KEY: PartialKey = { caller: CALLER, sha256: SHA, shape: SHAPE };

let dir: string;
let library: Library;
let partials: PartialReceives;
let resume: ReceiveResume;
let logs: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "receive-resume-"));
  library = await Library.open(dir, join(dir, "library"));
  partials = new PartialReceives(dir);
  logs = [];
  resume = new ReceiveResume({ partials, library, log: (event) => logs.push(event) });
});
afterEach(() => {
  library.close();
  rmSync(dir, { recursive: true, force: true });
});

const offer = (meta: Record<string, unknown> = {}): OfferMessage => ({
  type: "offer",
  kind: "data",
  size: 1000,
  name: "r.bin",
  meta: { sha256: SHA, protection: "sealed", ...meta },
});

/** A partial of the first `held` bytes kept by the store, and a work that asked for it as RESUME would. */
async function resumedWork(held: number): Promise<SessionWork> {
  const path = library.incomingPath();
  writeFileSync(path, BYTES.subarray(0, held));
  await partials.keep(KEY, { name: "r.bin", path, held });
  const w = new SessionWork();
  const taken = await partials.take(KEY, library.incomingPath());
  if (taken) w.resumed = { key: KEY, ...taken, opened: false };
  w.resumeAsked = KEY;
  return w;
}

async function admit(w: SessionWork, o: OfferMessage): Promise<void> {
  await resume.admit(o, readOfferTerms(o), w, CALLER);
}

describe("ReceiveResume", () => {
  test("admit() takes a resumed OFFER from the held byte, and open() continues the partial to the whole SHA-256", async () => {
    const w = await resumedWork(400);
    await admit(w, offer({ resume: { held: 400 } }));
    const { file, prefix } = await resume.open(w, 400);
    expect(prefix?.position).toBe(400);
    await file.write(BYTES.subarray(400));
    expect(await file.finish()).toBe(SHA);
    expect(new Uint8Array(readFileSync(file.path))).toEqual(BYTES);
  });

  const refusals: Array<[string, () => Promise<SessionWork>, OfferMessage]> = [
    ["a fresh OFFER after RESUME", () => resumedWork(400), offer()],
    ["another held count than HELD said", () => resumedWork(400), offer({ resume: { held: 300 } })],
    [
      "another protection than RESUME named",
      () => resumedWork(400),
      offer({ protection: "seed", resume: { held: 400 } }),
    ],
    [
      "another recording than RESUME named",
      () => resumedWork(400),
      {
        ...offer({ resume: { held: 400 } }),
        meta: { sha256: "ee".repeat(32), protection: "sealed", resume: { held: 400 } },
      },
    ],
    ["a resumed OFFER without RESUME", async () => new SessionWork(), offer({ resume: { held: 0 } })],
  ];
  for (const [what, work, o] of refusals)
    test(`admit() refuses ${what} with protocol_error`, async () => {
      const w = await work();
      await expect(admit(w, o)).rejects.toMatchObject({ code: "protocol_error" });
    });

  test("open() refuses a stream that starts elsewhere than the held byte with integrity_failed", async () => {
    const w = await resumedWork(400);
    await expect(resume.open(w, 0)).rejects.toMatchObject({ code: "integrity_failed" });
    await expect(resume.open(new SessionWork(), 10)).rejects.toMatchObject({ code: "integrity_failed" });
  });

  test("a fresh OFFER drops what this caller kept of the same recording and shape", async () => {
    const path = library.incomingPath();
    writeFileSync(path, BYTES.subarray(0, 100));
    await partials.keep(KEY, { name: "r.bin", path, held: 100 });
    await admit(new SessionWork(), offer());
    expect(partials.read(KEY)).toBeUndefined();
  });

  const failures: Array<[string, unknown, boolean]> = [
    ["a cut channel (truncated)", new ReceiveFailure("truncated", "cut"), true],
    ["a forced end", new ReceiveFailure("ended", "ended"), true],
    ["a node that stayed away", Object.assign(new Error("away"), { code: "ERR_RELAY_UNREACHABLE" }), true],
    ["a hash mismatch", new ReceiveFailure("integrity_failed", "bad"), false],
    ["a frame that did not open", Object.assign(new Error("x"), { code: "ERR_DECRYPT" }), false],
    ["clear data under sealed", new ReceiveFailure("clear_data_refused", "no"), false],
  ];
  for (const [what, err, kept] of failures)
    test(`keeper() ${kept ? "keeps" : "does not keep"} a receive cut by ${what}`, async () => {
      const w = new SessionWork();
      await admit(w, offer());
      const { file } = await resume.open(w, 0);
      await file.write(BYTES.subarray(0, 600));
      expect(await resume.keeper(w, "ses_1")(err, file)).toBe(kept);
      if (kept) expect(partials.read(KEY)?.held).toBe(600);
      else {
        expect(partials.read(KEY)).toBeUndefined();
        await file.discard();
      }
    });

  test("giveBack() returns an unopened resumed partial to the store unchanged", async () => {
    const w = await resumedWork(400);
    await resume.giveBack(w);
    expect(partials.read(KEY)?.held).toBe(400);
  });
});

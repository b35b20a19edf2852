/** @module Tests of askHeld() over a real direct channel: an older callee is never asked, a resuming one's HELD is taken, a bad answer fails. */
import { describe, expect, test } from "bun:test";
import { dialOptions, startKit } from "../../test/support/direct-test-kit.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import { dialDirect } from "../direct/direct-dial.ts";
import { askHeld } from "./live-resume.ts";
import type { SendContext } from "./send-context.ts";

const SHA = "cd".repeat(32);

/** The parts of a send's context askHeld reads and writes, around a real connection. */
function contextOf(conn: DirectConnection, resume = true) {
  const logs: string[] = [];
  const ctx = {
    conn,
    plan: { sha256: SHA, size: 1000 },
    options: { resume },
    callee: { name: "bob" },
    abort: new AbortController(),
    result: {} as { resumedFrom?: number },
    resume: undefined as { held: number } | undefined,
    log: (m: string) => logs.push(m),
  };
  return { ctx, logs, send: ctx as unknown as SendContext };
}

async function pair(resume: boolean) {
  const kit = await startKit({ resume });
  const t = kit.ticket();
  const caller = await dialDirect(dialOptions(kit.listener.port, t));
  const callee = await kit.nextAccepted();
  return { kit, caller, callee };
}

describe("ACCEPTED patternVersions", () => {
  test("dialDirect() takes the versions a callee lists, and version 1 only from a callee that lists none", async () => {
    for (const [listed, seen] of [
      [undefined, [1]],
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      [[1], [1]],
    ] as const) {
      await using kit = await startKit(listed === undefined ? {} : { patternVersions: listed });
      const caller = await dialDirect(dialOptions(kit.listener.port, kit.ticket()));
      expect({ listed, seen: caller.peerPatternVersions }).toEqual({ listed, seen });
      caller.close();
    }
  });
});

describe("askHeld()", () => {
  test("askHeld() asks an older callee (no resume in ACCEPTED) nothing: its first message is the OFFER", async () => {
    const { kit, caller, callee } = await pair(false);
    await using _ = kit;
    expect(caller.peerResumes).toBe(false);
    const { ctx, logs, send } = contextOf(caller);
    expect(await askHeld(send, { kind: "data", protection: "sealed" })).toBe(0);
    expect(ctx.resume).toBeUndefined();
    expect(logs.join()).toContain("older pvrlink");
    await caller.send({ type: "offer", kind: "data", size: 1000, name: "x" });
    expect((await callee.receive())?.type).toBe("offer");
  });

  test("askHeld() sends RESUME to a resuming callee and takes its HELD", async () => {
    const { kit, caller, callee } = await pair(true);
    await using _ = kit;
    expect(caller.peerResumes).toBe(true);
    const { ctx, send } = contextOf(caller);
    const asked = askHeld(send, { kind: "split", protection: "pattern", directSize: 900 });
    const q = await callee.receive();
    expect(q).toEqual({
      type: "resume",
      sha256: SHA,
      kind: "split",
      size: 1000,
      protection: "pattern",
      directSize: 900,
    });
    await callee.send({ type: "held", held: 700 });
    expect(await asked).toBe(700);
    expect(ctx.resume).toEqual({ held: 700 });
    expect(ctx.result.resumedFrom).toBe(700);
  });

  const bad: Array<[string, (c: DirectConnection) => Promise<void>, RegExp]> = [
    ["more than the recording", (c) => c.send({ type: "held", held: 1001 }), /holds 1001 of 1000/],
    [
      "a RECEIPT instead of HELD",
      (c) => c.send({ type: "receipt", ok: false, bytes: 0 }),
      /answered RESUME with receipt/,
    ],
    ["a closed channel", (c) => c.close(), /instead of HELD/],
  ];
  for (const [what, answer, message] of bad)
    test(`askHeld() fails protocol_error on ${what}`, async () => {
      const { kit, caller, callee } = await pair(true);
      await using _ = kit;
      const { send } = contextOf(caller);
      const asked = askHeld(send, { kind: "data", protection: "seed" });
      const settled = asked.then(
        () => undefined,
        (err: unknown) => err as Error & { code?: string },
      );
      await callee.receive();
      // Not awaited: an orderly close waits for the caller's own close, which comes only after the test.
      void answer(callee);
      const err = await settled;
      expect(err?.code).toBe("protocol_error");
      expect(err?.message).toMatch(message);
    });

  test("askHeld() without --resume asks nothing, even a resuming callee", async () => {
    const { kit, caller, callee } = await pair(true);
    await using _ = kit;
    const { ctx, send } = contextOf(caller, false);
    expect(await askHeld(send, { kind: "data", protection: "sealed" })).toBe(0);
    expect(ctx.result.resumedFrom).toBeUndefined();
    await caller.send({ type: "offer", kind: "data", size: 1000, name: "x" });
    expect((await callee.receive())?.type).toBe("offer");
  });
});

/** @module Seed A variation 9, with real processes: each peer holds its own one-time password; the caller refuses a callee that cannot prove its own. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ChildProcess } from "../../demo/child-process.ts";
import { dialDirect } from "../../firmware/direct/direct-dial.ts";
import { DirectChannelError } from "../../firmware/direct/direct-error.ts";
import type { SessionGrant } from "../../protocol/api-types.ts";
import { type CalleeStage, startCalleeStage } from "../support/recorder-harness.ts";
import { sendDataAndExpectReceipt } from "./seed-kit.ts";

const IMPOSTOR = join(import.meta.dir, "impostor-callee.ts");

let stage: CalleeStage;

beforeAll(async () => {
  stage = await startCalleeStage();
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

async function liveGrant(): Promise<SessionGrant> {
  const q = await stage.alice.query("grandma");
  if (q.status !== 200) throw new Error("expected a live session");
  return q.session;
}

/**
 * An impostor at an address alice dials: the real direct listener with the session's key and alice's password
 * (so it gets past everything the callee checks), but without grandma's own password, or with a forged one.
 */
async function startImpostor(g: SessionGrant, calleePassword?: string): Promise<ChildProcess> {
  const ticket = {
    sessionId: g.id,
    callerId: stage.aliceCred.id,
    password: g.password,
    key: g.key,
    expiresAt: g.expiresAt,
    connectBy: g.connectBy,
    ...(calleePassword !== undefined ? { calleePassword } : {}),
  };
  const p = new ChildProcess("impostor", [process.execPath, IMPOSTOR], {
    env: { IMPOSTOR_TICKET: JSON.stringify(ticket) },
  });
  await p.waitForLine(/^listening \d+$/);
  return p;
}

function portOf(p: ChildProcess): number {
  return Number(p.outLines[0]?.split(" ")[1]);
}

describe("the mutual password check (A variation 9)", () => {
  test("the node hands each peer the other side's one-time password: two different CSPRNG passwords", async () => {
    const g = await liveGrant();
    expect(g.calleePassword).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(g.calleePassword).not.toBe(g.password);
    await stage.alice.end(g.id, { reason: "done" });
  });

  for (const [what, forged] of [
    ["without the callee's password", undefined],
    ["with a forged callee password", randomBytes(16).toString("base64url")],
  ] as const) {
    test(`an impostor ${what} is refused with ERR_DIRECT_CALLEE_UNVERIFIED and gets no data`, async () => {
      const g = await liveGrant();
      await using impostor = await startImpostor(g, forged);
      const err = await dialDirect({
        host: "127.0.0.1",
        port: portOf(impostor),
        sessionId: g.id,
        password: g.password,
        calleePassword: g.calleePassword,
        key: g.key,
        callerId: stage.aliceCred.id,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DirectChannelError);
      expect((err as DirectChannelError).code).toBe("ERR_DIRECT_CALLEE_UNVERIFIED");
      // The impostor passed its own checks (it accepted alice), then the connection ended with nothing sent.
      await impostor.waitForLine(/^closed /);
      expect(impostor.outLines.some((l) => l.startsWith("log DIRECT_ACCEPTED"))).toBe(true);
      expect(impostor.outLines.filter((l) => l.startsWith("got "))).toEqual([]);
      await stage.alice.end(g.id, { reason: "done" });
    }, 20_000);
  }

  test("the real callee proves its password, and the transfer goes through", async () => {
    const g = await liveGrant();
    const conn = await dialDirect({
      host: stage.rec.direct.host,
      port: stage.rec.direct.port,
      sessionId: g.id,
      password: g.password,
      calleePassword: g.calleePassword,
      key: g.key,
      callerId: stage.aliceCred.id,
      // As pvrlink send does: without it the recorder refuses the session if its grant has not arrived yet.
      contact: { connectBy: g.connectBy, ticket: g.contactTicket ?? "" },
    });
    await sendDataAndExpectReceipt(conn, "mutual.bin", 4000);
  }, 20_000);
});

/** @module B embodiment 3 (S1504-S1505): the sender's extension request leaves at 70% of the permitted duration. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../../demo/wait-for.ts";
import { EXTEND_AT_FRACTION, LeaseKeeper } from "../../firmware/send/lease-keeper.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { type CalleeStage, startCalleeStage } from "../support/recorder-harness.ts";

/** A 4-second lease: 70% of it is 2.8 s, and a ±5% band is ±200 ms, well above timer jitter on a loaded box. */
const LEASE_SEC = 4;

let stage: CalleeStage;

// A real node and a real callee daemon ("grandma", permitting alice), both as processes.
beforeAll(async () => {
  stage = await startCalleeStage({ nodeConfig: { sessionDurationSec: LEASE_SEC, extensionSec: LEASE_SEC } });
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

describe("the 70% extension (B FIG. 15 S1504)", () => {
  test("LeaseKeeper sends its extension request between 65% and 75% of the permitted duration", async () => {
    // Each extend request is timed as it leaves this process, through the client's own fetch.
    const sentAt: number[] = [];
    const { node, aliceCred } = stage;
    const timed: typeof fetch = Object.assign(
      (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
        if (String(input).endsWith("/extend")) sentAt.push(Date.now());
        return node.fetch(input, init);
      },
      { preconnect: fetch.preconnect },
    );
    const client = new ControlClient({
      baseUrl: node.baseUrl,
      deviceId: aliceCred.id,
      secret: aliceCred.secret,
      fetch: timed,
    });
    const q = await client.query("grandma");
    if (q.status !== 200) throw new Error("expected a live session");
    const status = await client.session(q.session.id);
    const permittedMs = status.expiresAt - status.startedAt;
    expect(permittedMs).toBe(LEASE_SEC * 1000);
    const extended: number[] = [];
    using keeper = new LeaseKeeper(client, q.session, {
      extended: (at) => extended.push(at),
      refused: () => {},
      ended: () => {},
    });
    await waitFor("the extension", () => extended.length > 0, { timeoutMs: permittedMs });
    const fraction = ((sentAt[0] ?? 0) - status.startedAt) / permittedMs;
    expect(EXTEND_AT_FRACTION).toBe(0.7);
    expect(fraction).toBeGreaterThanOrEqual(0.65);
    expect(fraction).toBeLessThanOrEqual(0.75);
    // The node granted it: the lease now ends later than the first permitted duration.
    const after = await client.session(q.session.id);
    expect(after.extensions).toBe(1);
    expect(after.expiresAt).toBeGreaterThan(status.expiresAt);
    keeper.stop();
  }, 30_000);
});

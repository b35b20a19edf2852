/** @module readRelayRecords() against a node that is not there: retries with backoff, gives up at the deadline with ERR_RELAY_UNREACHABLE. */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { randomBytes, toBase64url } from "../../crypto/random-token.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { readRelayRecords } from "./relay-reader.ts";

/** A port on 127.0.0.1 that nothing listens on: bound, then closed (connection refused, a real socket error). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function reader(port: number, o: { deadline?: () => number; outageLimitMs?: number; signal?: AbortSignal }) {
  const client = new ControlClient({
    baseUrl: `http://127.0.0.1:${port}`,
    deviceId: "dev_reader",
    secret: toBase64url(randomBytes(32)),
  });
  return readRelayRecords({
    client,
    transferId: "tr_x",
    sessionId: "ses_x",
    sessionKey: randomBytes(32),
    ...o,
  });
}

describe("readRelayRecords() while the node is away", () => {
  // Deadlines are epoch ms relative to the test's start (a lease end does not move while the node is away).
  const cases: Array<[string, (t0: number) => { deadline?: () => number; outageLimitMs?: number }, number]> =
    [
      ["at the session's deadline", (t0) => ({ deadline: () => t0 + 400 }), 400],
      ["at the outage limit when there is no deadline", () => ({ outageLimitMs: 300 }), 300],
      ["at once when the deadline has passed", (t0) => ({ deadline: () => t0 - 1 }), 0],
    ];
  for (const [what, options, waitMs] of cases) {
    test(`readRelayRecords() retries, then fails ERR_RELAY_UNREACHABLE ${what}`, async () => {
      const port = await closedPort();
      const t0 = Date.now();
      const o = options(t0);
      const err = await reader(port, o)
        .next()
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string; message: string },
        );
      const took = Date.now() - t0;
      expect(err?.code).toBe("ERR_RELAY_UNREACHABLE");
      expect(err?.message).toContain("tr_x");
      expect(took).toBeGreaterThanOrEqual(waitMs - 50);
    });
  }

  test("readRelayRecords() stops waiting for the node when aborted", async () => {
    const port = await closedPort();
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("ended")), 150);
    const err = await reader(port, { outageLimitMs: 60_000, signal: abort.signal })
      .next()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toBe("ended");
  });
});

/** @module Test harness for the relay routes: a real Bun.serve + Hono app on 127.0.0.1:0 over a real store (sqlite file or PostgreSQL) and a real spool backend. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { createRelayRoutes, type RelayDeps, type RelaySession } from "../../control/relay/relay-routes.ts";
import { SpoolStore } from "../../control/spool/spool-store.ts";
import { openControlStore } from "../../control/store/open-control-store.ts";
import type { SqlDriver } from "../../control/store/sql-driver.ts";
import { fileSpool, type SpoolUnderTest } from "./spool-backends.ts";

type RequestBody = NonNullable<RequestInit["body"]>;

export const SESSIONS: Record<string, RelaySession> = {
  ses_live: { id: "ses_live", callerId: "dev_a", calleeId: "dev_b", mode: "live", state: "active" },
  ses_store: { id: "ses_store", callerId: "dev_a", calleeId: "dev_b", mode: "store", state: "active" },
  ses_ended: { id: "ses_ended", callerId: "dev_a", calleeId: "dev_b", mode: "live", state: "ended" },
  ses_other: { id: "ses_other", callerId: "dev_c", calleeId: "dev_b", mode: "store", state: "active" },
};

/**
 * The device identity arrives in x-test-device and is set as c.get("deviceId"), standing where the node's
 * signed-request middleware sits (it sets the same variable after verifying the HMAC; its own tests cover it).
 */
export function relayApp(deps: RelayDeps): Hono {
  const app = new Hono<{ Variables: { deviceId: string } }>();
  app.use("/v1/*", async (c, next) => {
    const d = c.req.header("x-test-device");
    if (!d) return c.json({ error: { code: "unknown_device", message: "no device" } }, 401);
    c.set("deviceId", d);
    await next();
  });
  app.route("/v1", createRelayRoutes(deps));
  app.onError((err, c) => c.json({ error: { code: "internal_error", message: String(err) } }, 500));
  return app as unknown as Hono;
}

export interface Harness {
  url: string;
  dir: string;
  spoolDir: string;
  db: SqlDriver;
  spool: SpoolStore;
  /** What the spool backend holds (file names or object keys). */
  stored(): Promise<string[]>;
  notes: Array<[string, string, Record<string, unknown>]>;
  bytes: Map<string, number>;
  clock: { now: number | null };
  call(device: string, method: string, path: string, body?: RequestBody | object): Promise<Response>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * over: relay deps to replace; o.spool: the backend (default the filesystem spool in DIR/spool); o.store: a
 * store spec (default a sqlite file in DIR).
 */
export async function startHarness(
  over: Partial<RelayDeps> = {},
  o: { spool?: (spoolDir: string) => SpoolUnderTest; store?: string } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-relay-"));
  const spoolDir = join(dir, "spool");
  await Bun.write(join(spoolDir, ".keep"), "");
  const db = await openControlStore(o.store ?? join(dir, "control.db"));
  const backend: SpoolUnderTest = o.spool?.(spoolDir) ?? fileSpool(spoolDir);
  const spool = new SpoolStore(db, backend.factory);
  const notes: Harness["notes"] = [];
  const bytes = new Map<string, number>();
  const clock: { now: number | null } = { now: null };
  const app = relayApp({
    spool,
    thresholdBytes: 1024 * 1024,
    quotaBytes: 2 * 1024 * 1024,
    ttlSec: 3600,
    getSession: async (id) => SESSIONS[id] ?? null,
    notify: (d, k, r) => notes.push([d, k, r]),
    onBytes: (s, n) => bytes.set(s, (bytes.get(s) ?? 0) + n),
    deviceName: async (id) => ({ dev_a: "+81-90-1234-5678", dev_c: "carol@example.org" })[id] ?? null,
    now: () => clock.now ?? Date.now(),
    followIdleMs: 3000,
    ...over,
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    dir,
    spoolDir,
    db,
    spool,
    stored: () => backend.stored(),
    notes,
    bytes,
    clock,
    call(device, method, path, body) {
      const isRaw =
        body instanceof Uint8Array ||
        body instanceof ReadableStream ||
        typeof body === "string" ||
        body === undefined;
      return fetch(`${url}${path}`, {
        method,
        headers: { "x-test-device": device, ...(isRaw ? {} : { "content-type": "application/json" }) },
        body: isRaw ? (body as RequestBody | undefined) : JSON.stringify(body),
        duplex: "half",
      } as RequestInit);
    },
    async [Symbol.asyncDispose]() {
      await server.stop(true);
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic test bytes (a counter pattern is easy to diff when something goes wrong). */
export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** A request body that arrives in pieces, so uploads are exercised as streams, not as one buffer. */
export function chunked(b: Uint8Array, pieces: number): ReadableStream<Uint8Array> {
  let i = 0;
  const step = Math.ceil(b.byteLength / pieces);
  return new ReadableStream({
    pull(c) {
      if (i >= b.byteLength) return c.close();
      c.enqueue(b.slice(i, i + step));
      i += step;
    },
  });
}

/** @module Tests for the relay routes: store and forward, resumable uploads, limits, live follow, acks and the inbox. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chunked, pattern, startHarness } from "../../test/support/relay-harness.ts";
import { type SpoolKind, spoolBackend } from "../../test/support/spool-backends.ts";
import { nodeStore, storeBackend } from "../../test/support/store-backends.ts";
import type { StoreKind } from "../store/sql-driver.ts";
import type { RelayDeps } from "./relay-context.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytesOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());
const errOf = async (r: Response) =>
  ((await r.json()) as { error: { code: string; received?: number } }).error;

/** The store and spool backends the routes run on: the default node, the same on S3, and a cluster's pair. */
const BACKENDS: ReadonlyArray<[StoreKind, SpoolKind]> = [
  ["sqlite", "file"],
  ["sqlite", "s3"],
  ["postgres", "s3"],
];

async function create(h: Awaited<ReturnType<typeof startHarness>>, body: object, device = "dev_a") {
  const r = await h.call(device, "POST", "/v1/transfers", body);
  return {
    status: r.status,
    json: (await r.json()) as { transfer: { id: string }; error: { code: string } },
  };
}

describe.each(BACKENDS)("relay routes on %s with the %s spool", (storeKind, spoolKind) => {
  const stores = storeBackend(storeKind);
  const spools = spoolBackend(spoolKind);
  /** A harness on this describe's backends; syncEveryBytes is also the S3 part size, so parts are crossed. */
  const start = async (over: Partial<RelayDeps> = {}, o: { syncEveryBytes?: number } = {}) => {
    const store = await nodeStore(stores);
    return startHarness(over, {
      spool: (dir) =>
        spools.blobs(dir, {
          ...(o.syncEveryBytes !== undefined ? { syncEveryBytes: o.syncEveryBytes } : {}),
          partBytes: o.syncEveryBytes ?? 64 * 1024,
        }),
      ...(store !== undefined ? { store } : {}),
    });
  };

  describe("relay routes: store and forward", () => {
    test("streamed upload in two PUTs, complete with sha256, inbox, ranged download, ack deletes", async () => {
      await using h = await start();
      const data = pattern(300_000);
      const { status, json } = await create(h, {
        session: "ses_store",
        size: data.byteLength,
        kind: "store",
        label: "news",
      });
      expect(status).toBe(201);
      const id = json.transfer.id;
      let r = await h.call(
        "dev_a",
        "PUT",
        `/v1/transfers/${id}/data?offset=0`,
        chunked(data.subarray(0, 100_000), 7),
      );
      expect(await r.json()).toEqual({ received: 100_000 });
      r = await h.call(
        "dev_a",
        "PUT",
        `/v1/transfers/${id}/data?offset=100000`,
        chunked(data.subarray(100_000), 5),
      );
      expect(await r.json()).toEqual({ received: 300_000 });
      // Nothing incomplete is delivered: no inbox entry, no download, no trigger yet.
      expect(await (await h.call("dev_b", "GET", "/v1/inbox")).json()).toEqual([]);
      expect((await errOf(await h.call("dev_b", "GET", `/v1/transfers/${id}/data`))).code).toBe(
        "transfer_incomplete",
      );
      expect(h.notes).toEqual([]);
      r = await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, {
        size: data.byteLength,
        sha256: sha(data),
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ id, received: 300_000, complete: true, label: "news" });
      expect(h.notes).toEqual([["dev_b", "data", { transfer: id, session: "ses_store", kind: "store" }]]);
      expect(h.bytes.get("ses_store")).toBe(300_000);
      const inbox = (await (await h.call("dev_b", "GET", "/v1/inbox")).json()) as Array<
        Record<string, unknown>
      >;
      expect(inbox).toEqual([
        expect.objectContaining({
          id,
          session: "ses_store",
          size: 300_000,
          label: "news",
          sender: { id: "dev_a", name: "+81-90-1234-5678" },
        }),
      ]);
      const full = await bytesOf(await h.call("dev_b", "GET", `/v1/transfers/${id}/data`));
      expect(sha(full)).toBe(sha(data));
      const tail = await bytesOf(await h.call("dev_b", "GET", `/v1/transfers/${id}/data?offset=250000`));
      expect(Buffer.from(tail).equals(Buffer.from(data.subarray(250_000)))).toBe(true);
      r = await h.call("dev_b", "POST", `/v1/transfers/${id}/ack`);
      expect(await r.json()).toEqual({ id, deleted: true });
      expect(await h.stored()).toEqual([]);
      expect((await h.call("dev_b", "GET", `/v1/transfers/${id}`)).status).toBe(404);
    });

    test("a PUT at the wrong offset gets 409 offset_mismatch with the held offset, and resuming there works", async () => {
      await using h = await start();
      const data = pattern(5000, 7);
      const id = (await create(h, { session: "ses_store", size: 5000, kind: "store" })).json.transfer.id;
      await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, data.subarray(0, 1234));
      const r = await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, data.subarray(0, 10));
      expect(r.status).toBe(409);
      expect(await errOf(r)).toMatchObject({ code: "offset_mismatch", received: 1234 });
      const state = (await (await h.call("dev_a", "GET", `/v1/transfers/${id}`)).json()) as {
        received: number;
      };
      expect(state).toMatchObject({ received: 1234, complete: false });
      await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=1234`, data.subarray(1234));
      await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, { size: 5000 });
      expect(sha(await bytesOf(await h.call("dev_b", "GET", `/v1/transfers/${id}/data`)))).toBe(sha(data));
    });

    test("a create retried with the same Idempotency-Key returns the same transfer; another request under it is 409", async () => {
      await using h = await start();
      const body = { session: "ses_store", size: 100, kind: "store" };
      const call = (b: object, key: string) =>
        fetch(`${h.url}/v1/transfers`, {
          method: "POST",
          headers: { "x-test-device": "dev_a", "content-type": "application/json", "idempotency-key": key },
          body: JSON.stringify(b),
        });
      const first = await call(body, "create-key-0001");
      const again = await call(body, "create-key-0001");
      expect([first.status, again.status]).toEqual([201, 200]);
      const [x, y] = [
        (await first.json()) as { transfer: { id: string } },
        (await again.json()) as { transfer: { id: string } },
      ];
      expect(y.transfer.id).toBe(x.transfer.id);
      expect(h.notes).toEqual([]);
      expect((await h.spool.all(Date.now())).map((e) => e.id)).toEqual([x.transfer.id]);
      const other = await call({ ...body, size: 101 }, "create-key-0001");
      expect([other.status, (await errOf(other)).code]).toEqual([409, "idempotency_key_reused"]);
      const bad = await call(body, "short");
      expect([bad.status, (await errOf(bad)).code]).toEqual([400, "bad_request"]);
    });

    test("threshold gives 413 transfer_too_large, quota gives 507 quota_exceeded until an ack frees it", async () => {
      await using h = await start();
      expect(
        (await create(h, { session: "ses_store", size: 1024 * 1024 + 1, kind: "store" })).json.error.code,
      ).toBe("transfer_too_large");
      const a = await create(h, { session: "ses_store", size: 1024 * 1024, kind: "store" });
      const b = await create(h, { session: "ses_store", size: 1024 * 1024, kind: "store" });
      expect([a.status, b.status]).toEqual([201, 201]);
      const c = await create(h, { session: "ses_store", size: 1, kind: "store" });
      expect([c.status, c.json.error.code]).toEqual([507, "quota_exceeded"]);
      // Another sender's quota is its own.
      expect((await create(h, { session: "ses_other", size: 1, kind: "store" }, "dev_c")).status).toBe(201);
      await h.call("dev_b", "POST", `/v1/transfers/${a.json.transfer.id}/ack`);
      expect((await create(h, { session: "ses_store", size: 1, kind: "store" })).status).toBe(201);
    });

    test("expired transfers vanish and their files are swept", async () => {
      await using h = await start({ ttlSec: 60 });
      h.clock.now = Date.now();
      const id = (await create(h, { session: "ses_store", size: 10, kind: "store" })).json.transfer.id;
      await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, pattern(10));
      const holds = async () => (await h.stored()).some((name) => name.startsWith(id));
      expect(await holds()).toBe(true);
      h.clock.now += 61_000;
      expect((await h.call("dev_a", "GET", `/v1/transfers/${id}`)).status).toBe(404);
      expect(await holds()).toBe(false);
      // The quota it held is released too.
      expect((await create(h, { session: "ses_store", size: 1024 * 1024, kind: "store" })).status).toBe(201);
      expect((await create(h, { session: "ses_store", size: 1024 * 1024, kind: "store" })).status).toBe(201);
    });
  });

  describe("relay routes: permissions and refusals", () => {
    test("only the caller uploads and completes; only the callee downloads and acks; strangers see nothing", async () => {
      await using h = await start();
      const id = (await create(h, { session: "ses_store", size: 4, kind: "store" })).json.transfer.id;
      const table: Array<[string, string, string, unknown, number, string]> = [
        ["dev_b", "PUT", `/v1/transfers/${id}/data?offset=0`, new Uint8Array(4), 403, "not_participant"],
        ["dev_x", "GET", `/v1/transfers/${id}`, undefined, 403, "not_participant"],
        ["dev_b", "POST", `/v1/transfers/${id}/complete`, { size: 4 }, 403, "not_participant"],
        ["dev_a", "GET", `/v1/transfers/${id}/data`, undefined, 403, "not_participant"],
        ["dev_a", "POST", `/v1/transfers/${id}/ack`, undefined, 403, "not_participant"],
        [
          "dev_b",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: 4, kind: "store" },
          403,
          "not_participant",
        ],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_nope", size: 4, kind: "store" },
          404,
          "session_not_found",
        ],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_ended", size: 4, kind: "store" },
          409,
          "session_ended",
        ],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: 4, kind: "relay" },
          409,
          "session_mode_mismatch",
        ],
        ["dev_a", "GET", "/v1/transfers/tr_missing", undefined, 404, "transfer_not_found"],
        ["dev_a", "POST", `/v1/transfers/${id}/complete`, { size: 4 }, 409, "transfer_incomplete"],
        ["dev_a", "POST", `/v1/transfers/${id}/complete`, { size: 5 }, 409, "size_mismatch"],
        ["dev_a", "PUT", `/v1/transfers/${id}/data?offset=-1`, new Uint8Array(1), 400, "bad_request"],
        ["dev_a", "PUT", `/v1/transfers/${id}/data?offset=01`, new Uint8Array(1), 400, "bad_request"],
        ["dev_a", "POST", "/v1/transfers", "{not json", 400, "bad_request"],
        ["dev_a", "POST", "/v1/transfers", "[1,2]", 400, "bad_request"],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: "4", kind: "store" },
          400,
          "bad_request",
        ],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: 1.5, kind: "store" },
          400,
          "bad_request",
        ],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: 4, kind: "other" },
          400,
          "bad_request",
        ],
        ["dev_a", "POST", "/v1/transfers", { session: 7, size: 4, kind: "store" }, 400, "bad_request"],
        [
          "dev_a",
          "POST",
          "/v1/transfers",
          { session: "ses_store", size: 4, kind: "store", label: 3 },
          400,
          "bad_request",
        ],
        ["dev_a", "POST", "/v1/transfers", `{"pad":"${"x".repeat(20_000)}"}`, 413, "body_too_large"],
      ];
      for (const [dev, method, path, body, status, code] of table) {
        const r = await h.call(dev, method, path, body as object);
        expect({ dev, method, path, status: r.status, code: (await errOf(r)).code }).toEqual({
          dev,
          method,
          path,
          status,
          code,
        });
      }
    });

    test("a body running past the declared size is refused with 413 size_exceeded and keeps the valid prefix", async () => {
      await using h = await start();
      const id = (await create(h, { session: "ses_store", size: 100, kind: "store" })).json.transfer.id;
      const r = await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, pattern(150));
      expect(r.status).toBe(413);
      expect(await errOf(r)).toMatchObject({ code: "size_exceeded", received: 100 });
      expect(await (await h.call("dev_a", "GET", `/v1/transfers/${id}`)).json()).toMatchObject({
        received: 100,
      });
      const bad = await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, {
        size: 100,
        sha256: "0".repeat(64),
      });
      expect((await errOf(bad)).code).toBe("checksum_mismatch");
      const ok = await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, {
        size: 100,
        sha256: sha(pattern(150).subarray(0, 100)),
      });
      expect(ok.status).toBe(200);
    });

    test("random JSON bodies and paths never produce a 500", async () => {
      await using h = await start();
      const values: unknown[] = [null, 0, -1, 1e300, "", "ses_store", [], {}, true, "x".repeat(300), 2 ** 53];
      let seed = 99;
      const pick = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return values[(seed >>> 16) % values.length];
      };
      for (let i = 0; i < 150; i++) {
        const body = {
          session: pick(),
          size: pick(),
          kind: i % 3 === 0 ? "store" : pick(),
          label: pick(),
          extra: pick(),
          idempotencyKey: pick(),
        };
        const r = await h.call("dev_a", "POST", "/v1/transfers", body);
        expect(r.status).toBeLessThan(500);
        await r.arrayBuffer();
      }
      for (const p of [
        "/v1/transfers/%00/data",
        "/v1/transfers/..%2f..%2fetc/data",
        "/v1/transfers/x/complete",
      ]) {
        for (const m of ["GET", "PUT", "POST"]) {
          const r = await h.call("dev_a", m, p, m === "GET" ? undefined : "{}");
          expect(r.status).toBeLessThan(500);
          await r.arrayBuffer();
        }
      }
    });
  });

  describe("relay routes: damaged spool", () => {
    test.if(spoolKind === "s3")(
      "a stored part shorter than the index says: 409 transfer_incomplete, marked incomplete, resumable",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "pvrlink-damaged-"));
        const spool = spools.blobs(dir, { partBytes: 64 * 1024 });
        const store = await nodeStore(stores);
        await using h = await startHarness({}, { spool: () => spool, ...(store ? { store } : {}) });
        const data = pattern(200_000, 11);
        const id = (await create(h, { session: "ses_store", size: data.byteLength, kind: "store" })).json
          .transfer.id;
        await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, data);
        await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, { size: data.byteLength });
        // Parts at 0, 65536, 131072, 196608: the second is cut to 10 bytes behind the node's back.
        const second = (await spool.stored()).sort()[1]!;
        await spool.truncate(second, 10);
        const r = await h.call("dev_b", "GET", `/v1/transfers/${id}/data`);
        expect(r.status).toBe(409);
        const err = await errOf(r);
        expect(err).toMatchObject({ code: "transfer_incomplete", received: 65_536 });
        expect((err as unknown as { message: string }).message).toContain("shorter than recorded");
        expect(await (await h.call("dev_a", "GET", `/v1/transfers/${id}`)).json()).toMatchObject({
          received: 65_536,
          complete: false,
        });
        // The sender resumes where the intact bytes end, and the copy delivered is byte-identical.
        const again = await h.call(
          "dev_a",
          "PUT",
          `/v1/transfers/${id}/data?offset=65536`,
          data.subarray(65_536),
        );
        expect(await again.json()).toEqual({ received: data.byteLength });
        await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, {
          size: data.byteLength,
          sha256: sha(data),
        });
        expect(sha(await bytesOf(await h.call("dev_b", "GET", `/v1/transfers/${id}/data`)))).toBe(sha(data));
        rmSync(dir, { recursive: true, force: true });
      },
    );
  });

  describe("relay routes: live relay", () => {
    test("the callee follows a growing upload and gets every byte once it completes", async () => {
      await using h = await start({}, { syncEveryBytes: 16 * 1024 });
      const data = pattern(200_000, 3);
      const id = (await create(h, { session: "ses_live", size: data.byteLength, kind: "relay" })).json
        .transfer.id;
      expect(h.notes).toEqual([["dev_b", "data", { transfer: id, session: "ses_live", kind: "relay" }]]);
      // The follower is issued before the upload has created the spool file at all. (Bun sends the response
      // headers with the first chunk, so awaiting them here, before uploading, would wait for the idle end.)
      const download = h.call("dev_b", "GET", `/v1/transfers/${id}/data?offset=0`).then(bytesOf);
      // The upload trickles in; the download must already be waiting on it, not start after it.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent >= data.byteLength) return c.close();
          await Bun.sleep(2);
          c.enqueue(data.slice(sent, sent + 20_000));
          sent += 20_000;
        },
      });
      const put = await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, body);
      expect(await put.json()).toEqual({ received: data.byteLength });
      await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, { size: data.byteLength });
      const got = await download;
      expect(got.byteLength).toBe(data.byteLength);
      expect(sha(got)).toBe(sha(data));
    });
  });
});

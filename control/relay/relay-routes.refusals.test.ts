/** @module Tests for the relay routes' permissions, limits and refusals, and their answers over a damaged spool. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pattern, startHarness } from "../../test/support/relay-harness.ts";
import {
  bytesOf,
  createTransfer,
  errOf,
  RELAY_BACKENDS,
  relayBackends,
  sha,
} from "../../test/support/relay-route-kit.ts";
import { nodeStore } from "../../test/support/store-backends.ts";

describe.each(RELAY_BACKENDS)("relay routes on %s with the %s spool", (storeKind, spoolKind) => {
  const { stores, spools, start } = relayBackends(storeKind, spoolKind);

  describe("relay routes: permissions and refusals", () => {
    test("only the caller uploads and completes; only the callee downloads and acks; strangers see nothing", async () => {
      await using h = await start();
      const id = (await createTransfer(h, { session: "ses_store", size: 4, kind: "store" })).json.transfer.id;
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
      const id = (await createTransfer(h, { session: "ses_store", size: 100, kind: "store" })).json.transfer
        .id;
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
        const id = (await createTransfer(h, { session: "ses_store", size: data.byteLength, kind: "store" }))
          .json.transfer.id;
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
});

/** @module Tests for the relay routes: store and forward, resumable uploads, live follow, acks and the inbox (refusals: relay-routes.refusals.test.ts). */
import { describe, expect, test } from "bun:test";
import { chunked, pattern } from "../../test/support/relay-harness.ts";
import {
  bytesOf,
  createTransfer,
  errOf,
  RELAY_BACKENDS,
  relayBackends,
  sha,
} from "../../test/support/relay-route-kit.ts";

describe.each(RELAY_BACKENDS)("relay routes on %s with the %s spool", (storeKind, spoolKind) => {
  const { start } = relayBackends(storeKind, spoolKind);

  describe("relay routes: store and forward", () => {
    test("streamed upload in two PUTs, complete with sha256, inbox, ranged download, ack deletes", async () => {
      await using h = await start();
      const data = pattern(300_000);
      const { status, json } = await createTransfer(h, {
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
      const id = (await createTransfer(h, { session: "ses_store", size: 5000, kind: "store" })).json.transfer
        .id;
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
        (await createTransfer(h, { session: "ses_store", size: 1024 * 1024 + 1, kind: "store" })).json.error
          .code,
      ).toBe("transfer_too_large");
      const a = await createTransfer(h, { session: "ses_store", size: 1024 * 1024, kind: "store" });
      const b = await createTransfer(h, { session: "ses_store", size: 1024 * 1024, kind: "store" });
      expect([a.status, b.status]).toEqual([201, 201]);
      const c = await createTransfer(h, { session: "ses_store", size: 1, kind: "store" });
      expect([c.status, c.json.error.code]).toEqual([507, "quota_exceeded"]);
      // Another sender's quota is its own.
      expect(
        (await createTransfer(h, { session: "ses_other", size: 1, kind: "store" }, "dev_c")).status,
      ).toBe(201);
      await h.call("dev_b", "POST", `/v1/transfers/${a.json.transfer.id}/ack`);
      expect((await createTransfer(h, { session: "ses_store", size: 1, kind: "store" })).status).toBe(201);
    });

    test("expired transfers vanish and their files are swept", async () => {
      await using h = await start({ ttlSec: 60 });
      h.clock.now = Date.now();
      const id = (await createTransfer(h, { session: "ses_store", size: 10, kind: "store" })).json.transfer
        .id;
      await h.call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, pattern(10));
      const holds = async () => (await h.stored()).some((name) => name.startsWith(id));
      expect(await holds()).toBe(true);
      h.clock.now += 61_000;
      expect((await h.call("dev_a", "GET", `/v1/transfers/${id}`)).status).toBe(404);
      expect(await holds()).toBe(false);
      // The quota it held is released too.
      expect(
        (await createTransfer(h, { session: "ses_store", size: 1024 * 1024, kind: "store" })).status,
      ).toBe(201);
      expect(
        (await createTransfer(h, { session: "ses_store", size: 1024 * 1024, kind: "store" })).status,
      ).toBe(201);
    });
  });

  describe("relay routes: live relay", () => {
    test("the callee follows a growing upload and gets every byte once it completes", async () => {
      await using h = await start({}, { syncEveryBytes: 16 * 1024 });
      const data = pattern(200_000, 3);
      const id = (await createTransfer(h, { session: "ses_live", size: data.byteLength, kind: "relay" })).json
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

/** @module Measures relay throughput on loopback (upload, download, live follow) against a drain-only route; `bun test/relay/measure-relay.ts`. */
import { createHash } from "node:crypto";
import { pattern, startHarness } from "../support/relay-harness.ts";

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const PUT_BYTES = 16 * MIB;
const data = pattern(SIZE, 5);
const mbps = (bytes: number, ms: number) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;

async function drain(r: Response): Promise<number> {
  let n = 0;
  const reader = r.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.byteLength;
  }
}

// Ceiling: the same bytes, same client, to a route that reads and discards the body.
{
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: 1024 * MIB,
    async fetch(req) {
      return new Response(String(await drain(new Response(req.body))));
    },
  });
  const t0 = performance.now();
  for (let off = 0; off < SIZE; off += PUT_BYTES) {
    await (
      await fetch(`http://127.0.0.1:${server.port}/`, {
        method: "PUT",
        body: data.subarray(off, off + PUT_BYTES),
      })
    ).text();
  }
  console.log(`${"HTTP ceiling (drain only)".padEnd(36)} ${mbps(SIZE, performance.now() - t0)}`);
  await server.stop(true);
}

{
  await using h = await startHarness({ thresholdBytes: 1024 * MIB, quotaBytes: 4096 * MIB });
  const create = async (kind: string, session: string) =>
    (
      (await (await h.call("dev_a", "POST", "/v1/transfers", { session, size: SIZE, kind })).json()) as {
        transfer: { id: string };
      }
    ).transfer.id;
  const upload = async (id: string) => {
    for (let off = 0; off < SIZE; off += PUT_BYTES) {
      const r = await h.call(
        "dev_a",
        "PUT",
        `/v1/transfers/${id}/data?offset=${off}`,
        data.subarray(off, off + PUT_BYTES),
      );
      if (r.status !== 200) throw new Error(`upload failed: ${r.status} ${await r.text()}`);
    }
    await h.call("dev_a", "POST", `/v1/transfers/${id}/complete`, { size: SIZE });
  };

  const id = await create("store", "ses_store");
  let t0 = performance.now();
  await upload(id);
  console.log(`${"store upload (fsync every 4 MiB)".padEnd(36)} ${mbps(SIZE, performance.now() - t0)}`);
  t0 = performance.now();
  const got = await drain(await h.call("dev_b", "GET", `/v1/transfers/${id}/data`));
  console.log(`${"store download (complete file)".padEnd(36)} ${mbps(got, performance.now() - t0)}`);

  const live = await create("relay", "ses_live");
  t0 = performance.now();
  const hash = createHash("sha256");
  const follow = h.call("dev_b", "GET", `/v1/transfers/${live}/data`).then(async (r) => {
    let n = 0;
    const reader = r.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return n;
      hash.update(value);
      n += value.byteLength;
    }
  });
  await upload(live);
  const n = await follow;
  const ok = hash.digest("hex") === createHash("sha256").update(data).digest("hex");
  console.log(
    `${"live relay (upload + follow)".padEnd(36)} ${mbps(n, performance.now() - t0)} byte-identical=${ok}`,
  );
}

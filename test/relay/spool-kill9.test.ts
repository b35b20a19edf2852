/** @module Integration: a node killed with -9 mid-upload keeps the acknowledged bytes and reports the rest missing; on S3, another node resumes the upload. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { pattern } from "../support/relay-harness.ts";
import { S3Server } from "../support/s3-server.ts";

type RequestBody = NonNullable<RequestInit["body"]>;

const FIXTURE = join(import.meta.dir, "spool-server-fixture.ts");
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface Node {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
}

/** config: the fixture's store and spool (JSON); without it, sqlite and the filesystem spool in dir. */
async function startNode(dir: string, config?: object): Promise<Node> {
  const args = config ? [JSON.stringify(config)] : [];
  const proc = Bun.spawn([process.execPath, FIXTURE, dir, ...args], { stdout: "pipe", stderr: "ignore" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`fixture exited before printing its address: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { http } = JSON.parse(text.split("\n")[0]!) as { http: string };
  return { url: `http://${http}`, proc };
}

test("kill -9 mid-upload: acknowledged bytes survive, the rest is reported missing, resuming completes byte-identical", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-kill9-"));
  let node: Node | undefined;
  try {
    node = await startNode(dir);
    const call = (dev: string, method: string, path: string, body?: RequestBody) =>
      fetch(`${node!.url}${path}`, {
        method,
        headers: { "x-test-device": dev },
        body,
        duplex: "half",
      } as RequestInit);
    const data = pattern(1024 * 1024, 42);
    const created = (await (
      await call(
        "dev_a",
        "POST",
        "/v1/transfers",
        JSON.stringify({ session: "ses_store", size: data.byteLength, kind: "store" }),
      )
    ).json()) as { transfer: { id: string } };
    const id = created.transfer.id;
    const acked = 256 * 1024;
    const first = await call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, data.slice(0, acked));
    expect(await first.json()).toEqual({ received: acked });

    // Second PUT: sends 300 KiB and then stalls, as a sender on a dying link would.
    let pulled = acked;
    const stalled = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (pulled >= acked + 300 * 1024) return new Promise<void>(() => {});
        c.enqueue(data.slice(pulled, pulled + 32 * 1024));
        pulled += 32 * 1024;
      },
    });
    const inFlight = call("dev_a", "PUT", `/v1/transfers/${id}/data?offset=${acked}`, stalled).catch(
      (e) => e,
    );
    // Wait until the node has made part of the in-flight body durable, then kill it without warning.
    const midway = await waitFor("in-flight bytes to become durable", async () => {
      const s = (await (await call("dev_a", "GET", `/v1/transfers/${id}`)).json()) as { received: number };
      return s.received > acked ? s.received : undefined;
    });
    node.proc.kill(9);
    await node.proc.exited;
    await inFlight;

    node = await startNode(dir);
    const state = (await (await call("dev_a", "GET", `/v1/transfers/${id}`)).json()) as {
      received: number;
      complete: boolean;
    };
    expect(state.complete).toBe(false);
    expect(state.received).toBeGreaterThanOrEqual(midway);
    expect(state.received).toBeLessThan(data.byteLength);
    // Nothing half-received is delivered as complete.
    expect((await call("dev_b", "GET", `/v1/transfers/${id}/data`)).status).toBe(409);
    expect(await (await call("dev_b", "GET", "/v1/inbox")).json()).toEqual([]);

    const resumed = await call(
      "dev_a",
      "PUT",
      `/v1/transfers/${id}/data?offset=${state.received}`,
      data.slice(state.received),
    );
    expect(await resumed.json()).toEqual({ received: data.byteLength });
    const done = await call(
      "dev_a",
      "POST",
      `/v1/transfers/${id}/complete`,
      JSON.stringify({ size: data.byteLength, sha256: sha(data) }),
    );
    expect(done.status).toBe(200);
    const got = new Uint8Array(await (await call("dev_b", "GET", `/v1/transfers/${id}/data`)).arrayBuffer());
    expect(sha(got)).toBe(sha(data));
  } finally {
    if (node && node.proc.exitCode === null) {
      node.proc.kill(9);
      await node.proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test("S3 spool: kill -9 of the node that received part of an upload, another node resumes at the stored offset, byte-identical", async () => {
  await using pg = await PostgresServer.start();
  await using s3 = await S3Server.start();
  const config = { store: await pg.freshDatabase(), ...s3.spoolConfig("cluster"), spoolPartBytes: 64 * 1024 };
  const dirA = mkdtempSync(join(tmpdir(), "pvrlink-kill9-a-"));
  const dirB = mkdtempSync(join(tmpdir(), "pvrlink-kill9-b-"));
  const dirC = mkdtempSync(join(tmpdir(), "pvrlink-kill9-c-"));
  const nodes: Node[] = [];
  try {
    const a = await startNode(dirA, config);
    nodes.push(a);
    const b = await startNode(dirB, config);
    nodes.push(b);
    const call = (node: Node, dev: string, method: string, path: string, body?: RequestBody) =>
      fetch(`${node.url}${path}`, {
        method,
        headers: { "x-test-device": dev },
        body,
        duplex: "half",
      } as RequestInit);
    const data = pattern(1024 * 1024 + 12_345, 43);
    const created = (await (
      await call(
        a,
        "dev_a",
        "POST",
        "/v1/transfers",
        JSON.stringify({ session: "ses_store", size: data.byteLength, kind: "store" }),
      )
    ).json()) as { transfer: { id: string } };
    const id = created.transfer.id;
    // Node A takes 300 KiB and the sender's link then stalls: A has stored (and acknowledged) whole parts.
    let pulled = 0;
    const stalled = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (pulled >= 300 * 1024) return new Promise<void>(() => {});
        c.enqueue(data.slice(pulled, pulled + 32 * 1024));
        pulled += 32 * 1024;
      },
    });
    const inFlight = call(a, "dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, stalled).catch((e) => e);
    // Node B sees A's progress through the shared index.
    const midway = await waitFor("parts stored through node A to show on node B", async () => {
      const s = (await (await call(b, "dev_a", "GET", `/v1/transfers/${id}`)).json()) as { received: number };
      return s.received >= 256 * 1024 ? s.received : undefined;
    });
    a.proc.kill(9);
    await a.proc.exited;
    await inFlight;

    const state = (await (await call(b, "dev_a", "GET", `/v1/transfers/${id}`)).json()) as {
      received: number;
      complete: boolean;
    };
    expect(state.complete).toBe(false);
    expect(state.received).toBeGreaterThanOrEqual(midway);
    expect(state.received % (64 * 1024)).toBe(0);
    // A wrong offset is refused with the stored one; at the stored offset node B continues A's upload.
    const wrong = await call(b, "dev_a", "PUT", `/v1/transfers/${id}/data?offset=0`, data.slice(0, 10));
    expect(wrong.status).toBe(409);
    const resumed = await call(
      b,
      "dev_a",
      "PUT",
      `/v1/transfers/${id}/data?offset=${state.received}`,
      data.slice(state.received),
    );
    expect(await resumed.json()).toEqual({ received: data.byteLength });
    const done = await call(
      b,
      "dev_a",
      "POST",
      `/v1/transfers/${id}/complete`,
      JSON.stringify({ size: data.byteLength, sha256: sha(data) }),
    );
    expect(done.status).toBe(200);
    const got = new Uint8Array(
      await (await call(b, "dev_b", "GET", `/v1/transfers/${id}/data`)).arrayBuffer(),
    );
    expect(got.byteLength).toBe(data.byteLength);
    expect(sha(got)).toBe(sha(data));
    // A ranged (resumed) download from a third offset, inside a part, on a node that never saw the upload start.
    const c = await startNode(dirC, config);
    nodes.push(c);
    const tail = new Uint8Array(
      await (await call(c, "dev_b", "GET", `/v1/transfers/${id}/data?offset=700001`)).arrayBuffer(),
    );
    expect(sha(tail)).toBe(sha(data.subarray(700_001)));
  } finally {
    for (const n of nodes) {
      if (n.proc.exitCode === null) {
        n.proc.kill(9);
        await n.proc.exited;
      }
    }
    for (const d of [dirA, dirB, dirC]) rmSync(d, { recursive: true, force: true });
  }
}, 60_000);

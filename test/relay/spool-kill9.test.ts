/** @module Integration: a node killed with -9 mid-upload keeps the acknowledged bytes and reports the rest missing. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import { pattern } from "./relay-harness.ts";

type RequestBody = NonNullable<RequestInit["body"]>;

const FIXTURE = join(import.meta.dir, "spool-server-fixture.ts");
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface Node {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
}

async function startNode(dir: string): Promise<Node> {
  const proc = Bun.spawn([process.execPath, FIXTURE, dir], { stdout: "pipe", stderr: "ignore" });
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

/** @module Seed B embodiment 1 with real processes: policy "list", the callee sends its list per query, the node judges that query and keeps nothing. */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { pvrlink } from "../support/pvrlink-source.ts";
import { type CalleeStage, startCalleeStage } from "../support/recorder-harness.ts";

let stage: CalleeStage;
let grandma: ControlClient;
let carol: ControlClient;
let mallory: ControlClient;

async function permit(...args: string[]): Promise<void> {
  const r = await pvrlink(["permit", ...args, "--data", stage.rec.dataDir]);
  if (r.code !== 0) throw new Error(`permit ${args.join(" ")}: ${r.stderr}`);
}

async function outcome(p: Promise<{ status: number }>): Promise<string | number> {
  try {
    return (await p).status;
  } catch (err) {
    if (!(err instanceof ControlApiError)) throw err;
    return err.code;
  }
}

beforeAll(async () => {
  stage = await startCalleeStage({ permitAlice: false });
  await stage.rec.log.waitForLine(/recorder registered/);
  grandma = stage.node.client({ id: stage.rec.device, secret: stage.rec.secret });
  carol = stage.node.client(await stage.node.enroll("carol"));
  mallory = stage.node.client(await stage.node.enroll("mallory"));
  await permit("policy", "list");
  await permit("add", "alice", "@family");
  await permit("group", "create", "family");
  await permit("group", "add", "family", "carol");
}, 30_000);

afterAll(() => stage?.[Symbol.asyncDispose]());

describe("policy list (B embodiment 1)", () => {
  test("a listed caller is permitted: the node triggered the callee, which sent its list", async () => {
    const from = stage.rec.log.mark();
    expect(await outcome(stage.alice.query("grandma"))).toBe(200);
    await stage.rec.log.waitForLine(/recorder list-sent entries=2/, { since: from });
  });

  test("a member of a group the list names is permitted (the device's own group, sent with the list)", async () => {
    expect(await outcome(carol.query("grandma"))).toBe(200);
  });

  test("an unlisted caller gets permission_denied", async () => {
    const from = stage.rec.log.mark();
    expect(await outcome(mallory.query("grandma"))).toBe("permission_denied");
    await stage.rec.log.waitForLine(/recorder list-sent/, { since: from });
  });

  test("the node keeps no copy: its allow-list for the callee is empty, in the API and in the database", async () => {
    expect(await grandma.allowList()).toEqual({ policy: "list", entries: [] });
    const devices = await stage.node.admin.devices();
    expect(devices.find((d) => d.id === stage.rec.device)?.policy).toBe("list");
    using db = new Database(join(stage.node.dataDir, "control.db"), { readonly: true });
    const n = db
      .query<{ n: number }, [string]>("SELECT count(*) AS n FROM allow_entries WHERE owner_id = ?")
      .get(stage.rec.device);
    expect(n?.n).toBe(0);
    const res = await grandma.raw("PUT", "/v1/allow-list", JSON.stringify({ add: ["mallory"] }));
    expect(res.status).toBe(409);
  });

  test("a list nobody asked for, or for another device's request, is refused list_request_not_found", async () => {
    for (const c of [grandma, mallory]) {
      const res = await c.raw(
        "POST",
        "/v1/permission-list",
        JSON.stringify({ request: "AAAAAAAAAAAAAAAAAAAAAA", entries: ["mallory"] }),
      );
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("list_request_not_found");
    }
    const bad = await grandma.raw(
      "POST",
      "/v1/permission-list",
      JSON.stringify({ request: "x", entries: [7] }),
    );
    expect(bad.status).toBe(400);
    // Corrupt bodies are 400 and leave the node serving.
    for (const body of [
      "{",
      "[]",
      '{"request":1}',
      '{"request":"x","groups":[]}',
      '{"request":"x","groups":{"f":[1]}}',
      `{"request":"x","entries":[${'"a",'.repeat(2000)}"a"]}`,
    ]) {
      expect((await grandma.raw("POST", "/v1/permission-list", body)).status).toBe(400);
    }
    // Still judged by the device's list, not by anything posted: mallory stays out.
    expect(await outcome(mallory.query("grandma"))).toBe("permission_denied");
  });

  test("while the callee is offline nobody is permitted: there is no list to judge by", async () => {
    await stage.rec.stop();
    expect(await outcome(stage.alice.query("grandma"))).toBe("permission_denied");
  }, 20_000);
});

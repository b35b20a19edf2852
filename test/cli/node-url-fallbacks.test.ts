/** @module `pvrlink inbox`, `permit` and `doctor` (compiled binary) with a first node URL that dies before answering: each goes on to the config's nodeUrlFallbacks, as send and the daemon do (issue 16 item 3). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { DetachedNodeAndBox } from "../support/detached-node-and-box.ts";
import { runPvrlink } from "../support/pvrlink-process.ts";

let stage: DetachedNodeAndBox;
let box = "";
let withFallback = "";
let withoutFallback = "";
/** A node URL that accepts each connection and resets it before any answer: a node dying mid-call. */
let dead: Server;
let deadUrl = "";

beforeAll(async () => {
  stage = await DetachedNodeAndBox.start("fallbacks");
  box = stage.box;
  const liveUrl = stage.nodeUrl;
  dead = createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
  deadUrl = `${new URL(liveUrl).protocol}//127.0.0.1:${(dead.address() as { port: number }).port}`;
  withFallback = join(stage.work, "with-fallback.json");
  withoutFallback = join(stage.work, "without-fallback.json");
  writeFileSync(withFallback, JSON.stringify({ nodeUrlFallbacks: [liveUrl] }));
  writeFileSync(withoutFallback, JSON.stringify({}));
});
afterAll(async () => {
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  await stage[Symbol.asyncDispose]();
});

/** Runs a recorder command against the dead URL first, with or without the live node as its fallback. */
function run(args: string[], fallback: boolean) {
  return runPvrlink([
    ...args,
    ...["--data", box, "--node", deadUrl, "--config", fallback ? withFallback : withoutFallback],
  ]);
}

describe("nodeUrlFallbacks in the recorder's CLI commands", () => {
  test("inbox reaches the node through the fallback when the first URL dies before answering", async () => {
    const ok = JSON.parse((await run(["inbox", "--json"], true)).stdout) as { pendingError: string | null };
    expect(ok.pendingError).toBeNull();
    const lone = JSON.parse((await run(["inbox", "--json"], false)).stdout) as {
      pendingError: string | null;
    };
    expect(lone.pendingError).not.toBeNull();
  });

  test("permit edits the node's list through the fallback, and fails plainly without one", async () => {
    const added = await run(["permit", "add", "alice"], true);
    expect({ code: added.code, stderr: added.stderr }).toEqual({ code: 0, stderr: "" });
    const listed = await run(["permit", "list", "--json"], true);
    expect(JSON.parse(listed.stdout)).toMatchObject({ policy: "node", entries: ["alice"] });
    const lone = await run(["permit", "add", "bob"], false);
    expect(lone.code).toBe(1);
    expect(lone.stderr).toContain("ERR_NODE_UNREACHABLE");
  });

  test("doctor's node and auth checks pass through the fallback and name the URL that answered", async () => {
    const r = await run(["doctor", "--json"], true);
    const checks = (
      JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }
    ).checks;
    const check = (n: string) => checks.find((c) => c.name === n);
    expect(check("node")?.status).toBe("ok");
    expect(check("node")?.detail).toContain(`(${deadUrl} did not answer)`);
    expect(check("auth")?.status).toBe("ok");
    const lone = JSON.parse((await run(["doctor", "--json"], false)).stdout) as {
      checks: Array<{ name: string; status: string }>;
    };
    expect(lone.checks.find((c) => c.name === "node")?.status).toBe("fail");
  });
});

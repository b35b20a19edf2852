/** @module `pvrlink doctor` against a real node and daemon (compiled binary): each check passes when it should, and fails in plain words when it should. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toBase64url } from "../../crypto/random-token.ts";
import { DetachedNodeAndBox } from "../support/detached-node-and-box.ts";
import { runPvrlink } from "../support/pvrlink-process.ts";

let stage: DetachedNodeAndBox;
let work = "";
let node = "";
let box = "";

beforeAll(async () => {
  stage = await DetachedNodeAndBox.start("doctor", { daemon: true });
  ({ work, node, box } = stage);
});
afterAll(() => stage[Symbol.asyncDispose]());

async function doctor(data: string) {
  const r = await runPvrlink(["doctor", "--data", data, "--json"]);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    checks: Array<{ name: string; status: string; detail: string }>;
  };
  return {
    code: r.code,
    stderr: r.stderr,
    ok: out.ok,
    check: (n: string) => out.checks.find((c) => c.name === n),
  };
}

/** A credential file for a device the node never enrolled, pointing at the running node. */
function strangerDir(): string {
  const dir = join(work, "stranger");
  mkdirSync(dir, { recursive: true });
  const real = JSON.parse(readFileSync(join(work, "box.json"), "utf8")) as {
    node: object;
  };
  const cred = {
    id: "dev_notenrolled1234",
    name: "stranger",
    secret: toBase64url(randomBytes(32)),
    node: real.node,
  };
  writeFileSync(join(dir, "credential.json"), JSON.stringify(cred), { mode: 0o600 });
  return dir;
}

describe("pvrlink doctor", () => {
  test("doctor passes every check with the node and the daemon up, and says what it cannot check", async () => {
    const r = await doctor(box);
    expect(r.code).toBe(0);
    expect(r.ok).toBe(true);
    for (const name of ["credential", "node", "auth", "clock", "udp", "daemon", "disk"])
      expect(r.check(name)?.status).toMatch(/^(ok|warn)$/);
    expect(r.check("udp")?.detail).toMatch(
      /sees this box as 127\.0\.0\.1:\d+ \(no NAT between this box and the node\)/,
    );
    expect(r.check("daemon")?.detail).toMatch(/the node gives callers 127\.0\.0\.1:\d+/);
    expect(r.check("outside")?.status).toBe("skip");
  });

  test("doctor fails auth for a credential the node does not know, with unknown_device and what to do", async () => {
    const r = await doctor(strangerDir());
    expect(r.code).toBe(1);
    expect(r.check("node")?.status).toBe("ok");
    expect(r.check("auth")?.status).toBe("fail");
    expect(r.check("auth")?.detail).toContain("(unknown_device)");
    expect(r.check("auth")?.detail).toContain("enroll again");
  });

  test("doctor without a credential fails that check and skips what needs it", async () => {
    const r = await doctor(join(work, "empty"));
    expect(r.code).toBe(1);
    expect(r.check("credential")?.detail).toContain("enroll this device first");
    expect(r.check("node")?.status).toBe("skip");
    expect(r.check("udp")?.status).toBe("skip");
  });

  test("doctor with the node down fails node and udp with the code and the next step, and no stack trace", async () => {
    expect((await runPvrlink(["control", "stop", "--data", node])).code).toBe(0);
    const r = await doctor(box);
    expect(r.code).toBe(1);
    expect(r.check("node")?.status).toBe("fail");
    expect(r.check("node")?.detail).toMatch(
      /connection refused \(ECONNREFUSED\); is the control node running\?/,
    );
    expect(r.check("udp")?.status).toBe("fail");
    expect(r.stderr).toBe("");
  });
});

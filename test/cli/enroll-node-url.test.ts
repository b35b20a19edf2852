/** @module `control enroll` writes the serving node's public URL into the credential, not the configured default. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { livePid } from "../../cli/pid-lock.ts";
import { runPvrlink } from "../support/pvrlink-process.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-enroll-url-"));
afterAll(() => {
  // A failed test can leave its node behind; its PID is in its lock file.
  for (const d of ["a", "b", "c"]) {
    const pid = livePid(join(work, d, "control.pid"));
    if (pid !== undefined) process.kill(pid, "SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
});

/** Serves in the background on DATA with args, enrolls NAME there, stops; returns both outputs. */
async function serveAndEnroll(data: string, args: string[]) {
  const served = await runPvrlink([
    "control",
    "serve",
    "--detach",
    "--data",
    data,
    "--udp",
    "127.0.0.1:0",
    ...args,
  ]);
  expect(served.code).toBe(0);
  const first = JSON.parse(served.stdout) as { http: string; url: string; publicUdp: string; pin: string };
  const enrolled = await runPvrlink(["control", "enroll", "box", "--data", data]);
  expect(enrolled.code).toBe(0);
  const cred = JSON.parse(enrolled.stdout) as { node: { http: string; udp: string; pin?: string } };
  expect((await runPvrlink(["control", "stop", "--data", data])).code).toBe(0);
  return { first, cred };
}

describe("pvrlink control enroll", () => {
  test("control enroll names the node serving DATA on a free port, not 127.0.0.1:8650", async () => {
    const { first, cred } = await serveAndEnroll(join(work, "a"), ["--http", "127.0.0.1:0"]);
    expect(first.url).toBe(`https://${first.http}`);
    expect(first.http).not.toBe("127.0.0.1:8650");
    expect(cred.node).toEqual({ http: first.url, udp: first.publicUdp, pin: first.pin });
  });

  test("control enroll names serve's --public-url", async () => {
    const { cred } = await serveAndEnroll(join(work, "b"), [
      "--http",
      "127.0.0.1:0",
      "--public-url",
      "https://node.example.org:8443",
    ]);
    expect(cred.node.http).toBe("https://node.example.org:8443");
    expect(cred.node.udp).toMatch(/^node\.example\.org:\d+$/);
  });

  test("control enroll never names a wildcard listener's 0.0.0.0", async () => {
    const { first, cred } = await serveAndEnroll(join(work, "c"), ["--http", "0.0.0.0:0"]);
    expect(first.url).not.toContain("0.0.0.0");
    expect(cred.node.http).toBe(first.url);
  });

  test("control enroll --public-url works without a running node", async () => {
    const r = await runPvrlink([
      "control",
      "enroll",
      "x",
      "--data",
      join(work, "d"),
      "--public-url",
      "http://n.example:1",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).node.http).toBe("http://n.example:1");
  });
});

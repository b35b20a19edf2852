/** @module Ctrl-C during a send: a final progress line, a summary event, one error line with the next step, exit 130. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { binary } from "../support/e2e-stage.ts";
import { Tap } from "../support/recording-tap.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";

const cluster = aliceAndBobStage();

describe("send interrupted", () => {
  test("SIGINT mid-send ends with a 'done' event marked interrupted, a summary ERR_INTERRUPTED and exit 130", async () => {
    const file = join(cluster().root, "long.bin");
    writeFileSync(file, randomBytes(3_000_000));
    // 100 kB/s on the direct channel: the send lasts long enough to be interrupted in the middle.
    await using tap = await Tap.start(cluster().recorder("bob").direct, 100_000);
    const args = ["send", file, "--to", "bob", "--json", "--data", cluster().recorder("alice").dataDir];
    const p = Bun.spawn([binary(), ...args, "--direct", `127.0.0.1:${tap.port}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const lines: string[] = [];
    const decoder = new TextDecoder();
    let buffered = "";
    let signalled = false;
    for await (const chunk of p.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      lines.push(...parts);
      // Wait for bytes to move, then Ctrl-C.
      if (
        !signalled &&
        lines.some((l) => /"event":"progress".*"phase":"(sending|waiting for bob to verify)"/.test(l))
      ) {
        signalled = true;
        p.kill("SIGINT");
      }
    }
    const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(signalled).toBe(true);
    expect(code).toBe(130);
    const events = lines.map(
      (l) => JSON.parse(l) as { event: string; phase?: string; code?: string; next?: string },
    );
    expect(events.at(-1)).toMatchObject({ event: "summary", ok: false, code: "ERR_INTERRUPTED" });
    expect(events.at(-1)?.next).toContain("send it again with --resume");
    expect(events.at(-1)).toMatchObject({
      message: expect.stringContaining("bob keeps what it received: 'pvrlink send"),
    });
    expect(events.at(-2)).toMatchObject({ event: "done", phase: "interrupted" });
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(
      /^pvrlink send: Cannot finish sending long\.bin to bob: interrupted after .+ \(ERR_INTERRUPTED\); send it again/,
    );
  }, 60_000);
});

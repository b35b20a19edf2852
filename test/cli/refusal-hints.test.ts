/** @module Refused sends say what to do next, without telling a stranger whether a name exists; sending to yourself is refused locally. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/compiled-binary.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
const cluster = aliceAndBobStage(); // bob permits alice; alice permits nobody

/** A send in human mode (stdin is not a terminal: no prompt) and in --json mode. */
async function send(from: string, to: string) {
  const human = await cluster().recorderRun(from, ["send", SAMPLE, "--to", to]);
  const json = await cluster().recorderRun(from, ["send", SAMPLE, "--to", to, "--json"]);
  const summary = JSON.parse(json.stdout.trimEnd().split("\n").at(-1) as string) as {
    code: string;
    next?: string;
  };
  return { human, json, summary };
}

describe("refusal hints", () => {
  test("permission_denied says to check the name and ask for a permit, the same for an unknown name and an unpermitted caller", async () => {
    const unknown = await send("bob", "nobody");
    const unpermitted = await send("bob", "alice");
    for (const r of [unknown, unpermitted]) {
      expect(r.human.code).toBe(1);
      expect(r.summary.code).toBe("permission_denied");
      expect(r.summary.next).toContain("'pvrlink permit add bob'");
    }
    // Nothing but the name typed tells the two apart: existence stays hidden.
    expect(unknown.human.stderr.replaceAll("nobody", "NAME")).toBe(
      unpermitted.human.stderr.replaceAll("alice", "NAME"),
    );
    expect(unknown.summary.next?.replaceAll("nobody", "NAME")).toBe(
      unpermitted.summary.next?.replaceAll("alice", "NAME"),
    );
  });

  test("callee_busy off a terminal mentions --store-if-busy", async () => {
    await cluster().ok(["recorder", "busy", "on", "--data", cluster().recorder("bob").dataDir]);
    try {
      const r = await send("alice", "bob");
      expect(r.human.code).toBe(1);
      expect(r.summary.code).toBe("callee_busy");
      expect(r.human.stderr).toMatch(/^not sent \(callee_busy\): .*rerun with --store-if-busy/m);
      expect(r.summary.next).toContain("--store-if-busy");
    } finally {
      await cluster().ok(["recorder", "busy", "off", "--data", cluster().recorder("bob").dataDir]);
    }
  });

  test("a store-and-forward summary says nothing went direct instead of 'direct: 0 B' and 'pattern mode: 0 bytes'", async () => {
    await cluster().ok(["recorder", "busy", "on", "--data", cluster().recorder("bob").dataDir]);
    try {
      const r = await cluster().recorderRun("alice", ["send", SAMPLE, "--to", "bob", "--store-if-busy"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("(stored on the node)");
      expect(r.stdout).toContain("  direct: nothing (all of it sealed through the node)");
      expect(r.stdout).not.toContain("direct: 0 B");
      expect(r.stdout).not.toContain("pattern mode: 0 bytes");
    } finally {
      await cluster().ok(["recorder", "busy", "off", "--data", cluster().recorder("bob").dataDir]);
    }
  });

  test("sending to yourself is refused locally with ERR_SEND_TO_SELF, whatever the case of the name", async () => {
    for (const to of ["alice", "ALICE"]) {
      const r = await cluster().recorderRun("alice", ["send", SAMPLE, "--to", to]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(
        /^pvrlink send: Cannot send to \w+: that is this recorder's own name; .* \(ERR_SEND_TO_SELF\)$/,
      );
    }
  });
});

/** @module Scenario: a home router's wan address changes (dynamic IP); the recorder re-registers and queries after it get the new address. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { waitFor } from "../../../demo/wait-for.ts";
import { ROOT } from "../../support/compiled-binary.ts";
import { sha256File } from "../../support/left-behind.ts";
import { events, Scenario } from "./scenario-kit.ts";

let s: Scenario;
const FILE = join(ROOT, "testdata/es/mpeg2-closed-gop.m2v");

beforeAll(async () => {
  s = await Scenario.start({ udpTimeoutSec: 12 });
  await s.addRecorder("alice", 1);
  await s.addRecorder("bob", 2);
  await s.recorderOk("alice", ["permit", "add", "bob"]);
}, 60_000);

afterAll(async () => {
  await s?.[Symbol.asyncDispose]();
});

test("after alice's router gets a new wan address she re-registers, and bob's next query reaches the new address", async () => {
  const alice = s.recorder("alice");
  const oldAddr = s.bed.home(1).wanAddr;
  expect((await s.device("alice")).registration?.address).toBe(oldAddr);
  const mark = alice.proc.mark();

  const newAddr = await s.bed.changeWanAddress(1);
  expect(newAddr).not.toBe(oldAddr);
  // Within one keepalive interval: the answer reflects the new address, alice logs it and registers it.
  await alice.proc.waitForLine(
    new RegExp(`recorder mapping-changed from=${oldAddr}:\\d+ to=${newAddr}:\\d+`),
    {
      since: mark,
      timeoutMs: 12_000,
    },
  );
  const d = await s.waitRegistered("alice", (x) => x.registration?.address === newAddr, 10_000);
  expect(d.keepalive?.address).toBe(newAddr);
  expect(events(alice, "registered", mark).join("\n")).toContain(`address=${newAddr}:`);
  const st = await waitFor("alice's status to show the new address", async () => {
    const v = await s.status("alice");
    return v.daemon?.registered?.address === newAddr ? v : undefined;
  });
  expect(st.daemon?.mapped).toMatch(new RegExp(`^${newAddr.replaceAll(".", "\\.")}:\\d+$`));

  // bob queries alice: the trigger goes down alice's new mapping, and both punch: the direct part goes to her
  // router's new address (never the old one).
  const run = await s.recorderRun("bob", ["send", FILE, "--to", "alice"]);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`direct path to alice: punched (quic ${newAddr}:`);
  expect(run.stderr).not.toContain(oldAddr);
  const filed = (await s.library("alice")).find((r) => r.sender === "bob");
  expect(await sha256File(filed?.path ?? "")).toBe(await sha256File(FILE));
}, 40_000);

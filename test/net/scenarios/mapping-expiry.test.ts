/** @module Scenario: a keepalive interval longer than the router's UDP timeout; triggers fail, the recorder detects the expiry and shortens its interval until they work. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { waitFor } from "../../../demo/wait-for.ts";
import { ROOT } from "../../support/compiled-binary.ts";
import { summaryOf } from "../../support/send-summary.ts";
import { NODE_ADDR } from "../net-bed.ts";
import { events, Scenario } from "./scenario-kit.ts";

const UDP_TIMEOUT_SEC = 2;
const KEEPALIVE_SEC = 6;
const FILE = join(ROOT, "testdata/es/mpeg2-closed-gop.m2v");

let s: Scenario;

beforeAll(async () => {
  // The node resends a trigger for 3 s (its default deadline), to the mapping it saw last: one sent just after
  // alice's mapping died has given up before her next keepalive, 4 s later.
  s = await Scenario.start({ udpTimeoutSec: UDP_TIMEOUT_SEC });
  await s.addRecorder("alice", 1, ["--keepalive", String(KEEPALIVE_SEC)]);
  await s.addRecorder("bob", 2);
  await s.recorderOk("alice", ["permit", "add", "bob"]);
  // Busy: a query that reaches alice ends at her STATUS answer (callee_busy), no transfer needed.
  await s.recorderOk("alice", ["recorder", "busy", "on"]);
}, 60_000);

afterAll(async () => {
  await s?.[Symbol.asyncDispose]();
});

/** alice's keepalive flow in her router's table (undefined once the router forgot it). */
async function aliceMapping() {
  const nodePort = Number(s.udp.split(":")[1]);
  return (await s.bed.mappings(1)).find(
    (m) =>
      m.proto === "udp" &&
      m.orig.src === s.bed.home(1).lanAddr &&
      m.orig.dst === NODE_ADDR &&
      m.orig.dport === nodePort,
  );
}

async function query(): Promise<string> {
  const run = await s.recorderRun("bob", ["send", FILE, "--to", "alice", "--json"]);
  return summaryOf(run.stdout).code ?? `exit ${run.code}`;
}

test("keepalive 6 s behind a 2 s NAT timeout: queries fail, alice sees her port move, halves her interval until it holds, then queries work", async () => {
  const alice = s.recorder("alice");
  const start = alice.proc.mark();
  const rounds: { interval: number; code: string }[] = [];
  for (let round = 0; round < 6; round++) {
    const interval = (await s.status("alice")).daemon?.keepaliveIntervalSec ?? Number.NaN;
    if (interval < UDP_TIMEOUT_SEC) break;
    // Between keepalives the router forgets alice: nothing leads into her home any more.
    await waitFor(
      "alice's mapping to expire at her router",
      async () => (await aliceMapping()) === undefined,
      {
        timeoutMs: (interval + 3) * 1000,
        intervalMs: 100,
      },
    );
    const mark = alice.proc.mark();
    const code = await query();
    rounds.push({ interval, code });
    // The node's resends left a router entry on alice's old public port (alive for the 2 s timeout after the
    // last one), so her next keepalive is mapped to another port: that move is how she learns that her
    // interval outlives the mapping. (A query that came just after her keepalive revived the mapping reaches
    // her instead; then nothing moves and the next round tries again.)
    if (code === "callee_not_connected") {
      await alice.proc.waitForLine(/ recorder mapping-changed /, {
        since: mark,
        timeoutMs: (interval + 3) * 1000,
      });
    }
  }
  console.log(`mapping expiry rounds: ${JSON.stringify(rounds)}`);
  // The first query after an expiry cannot reach her: the node's trigger dies at the router.
  expect(rounds[0]).toEqual({ interval: KEEPALIVE_SEC, code: "callee_not_connected" });
  const changes = events(alice, "mapping-changed", start);
  expect(changes.length).toBeGreaterThanOrEqual(2);
  // Each change kept her router's address and moved the port (an expiry, not a new wan address).
  for (const l of changes)
    expect(l).toMatch(new RegExp(`from=${s.bed.home(1).wanAddr}:\\d+ to=${s.bed.home(1).wanAddr}:\\d+`));
  const st = await s.status("alice");
  expect(st.daemon?.keepaliveIntervalSec).toBeLessThan(UDP_TIMEOUT_SEC);
  // alice re-registered the moved mapping each time, so the node pushes to the live one.
  expect(events(alice, "registered", start).length).toBeGreaterThanOrEqual(changes.length);
  const d = await s.device("alice");
  expect(`${d.keepalive?.address}:${d.keepalive?.port}`).toBe(st.daemon?.mapped ?? "");

  // Now the mapping holds: the same public port for twice the router's timeout...
  const held = await waitFor("alice's mapping to exist", aliceMapping);
  const until = performance.now() + 2 * UDP_TIMEOUT_SEC * 1000;
  while (performance.now() < until) {
    expect((await aliceMapping())?.reply.dport).toBe(held.reply.dport);
    await Bun.sleep(100);
  }
  // ...and queries reach her, whenever they come.
  expect([await query(), await query()]).toEqual(["callee_busy", "callee_busy"]);
}, 90_000);

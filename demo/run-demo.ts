/** @module The `pvrlink demo` script: a node and two recorders on loopback, a split send, a refusal, and store-and-forward. */
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes } from "../firmware/progress/format-progress.ts";
import type { SendResult } from "../firmware/send/send-recording.ts";
import { Cluster, selfCommand } from "./cluster.ts";
import { mpeg2RecordingArgs } from "./mpeg2-recipe.ts";

/** A committed MPEG-2 Program Stream (what a DVD recorder writes), so the demo needs no ffmpeg. */
const SAMPLE = join(import.meta.dir, "../testdata/containers/ps-mpeg2.mpg");

export interface DemoOptions {
  /** Show every child process's log line. */
  verbose?: boolean;
  /** Recorders read /proc for their CPU load (else a steady idle view; busy comes from the busy switch). */
  realLoad?: boolean;
  out?: (line: string) => void;
  command?: string[];
}

async function sha256Of(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Finds the sample: the committed fixture, or (outside a checkout, e.g. a copied binary) one made with ffmpeg. */
async function sample(dir: string, out: (l: string) => void): Promise<string> {
  try {
    await access(SAMPLE);
    return SAMPLE;
  } catch {
    const path = join(dir, "sample.mpg");
    out(`(the committed sample is not next to this binary; generating one with ffmpeg into ${path})`);
    const recipe = mpeg2RecordingArgs({ source: "testsrc=size=352x288:rate=25:duration=4", format: "vob" });
    const p = Bun.spawn(["ffmpeg", ...recipe, path], { stdout: "ignore", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error("ffmpeg could not generate the sample recording");
    return path;
  }
}

function summaryOf(stdout: string): SendResult {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.includes('"event":"summary"'));
  if (!line) throw new Error(`send printed no summary: ${stdout.slice(-500)}`);
  return JSON.parse(line) as SendResult;
}

export async function runDemo(o: DemoOptions = {}): Promise<number> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const step = (title: string) => out(`\n== ${title}`);
  await using cluster = await Cluster.start({
    command: o.command ?? selfCommand(),
    ...(o.realLoad ? { realLoad: true } : {}),
    ...(o.verbose ? { echo: (label: string, line: string) => out(`   [${label}] ${line}`) } : {}),
  });
  step("control node");
  out(
    `started: ${cluster.nodeUrl} (certificate pin ${cluster.pin}), udp ${cluster.udp.host}:${cluster.udp.port}, data in ${cluster.nodeDataDir}`,
  );

  step("two recorders, enrolled with one-time tokens");
  const alice = await cluster.addRecorder("alice");
  const bob = await cluster.addRecorder("bob");
  for (const r of [alice, bob])
    out(`${r.name}: device ${r.id}, direct channel on ${r.direct.host}:${r.direct.port}`);

  step("permissions: bob lets alice call; alice lets nobody");
  await cluster.permit("bob", "alice");
  out("bob: permit add alice");

  step("alice files a sample MPEG-2 recording in her library and sends it to bob");
  const path = await sample(cluster.root, out);
  const added = (
    await cluster.ok(["library", "add", path, "--name", "holiday.mpg", "--data", alice.dataDir])
  ).trim();
  const recId = added.split("\t")[0] as string;
  out(`alice: library add -> ${added.replaceAll("\t", "  ")}`);
  const sent = await cluster.run(["send", recId, "--to", "bob", "--json", "--data", alice.dataDir]);
  const s = summaryOf(sent.stdout);
  if (sent.code !== 0 || !s.ok) {
    out(`send failed (${s.code}): ${s.message}`);
    return 1;
  }
  out(
    `route: ${s.route} (video, not secret)${s.fallback ? `; fallback through the node: ${s.fallbackReason}` : ""}`,
  );
  out(`I-pictures protected: ${s.iPictures ?? 0}`);
  out(
    `encrypted through the node: ${s.bytesRelayPayload} bytes, the protected part (every I-picture byte + its split header), ${formatBytes(s.bytesRelay)} sealed`,
  );
  out(
    `direct, recorder to recorder: ${s.bytesDirect} bytes, the direct part (${s.protection === "sealed" ? "every frame sealed under a key only alice and bob hold" : "clear, every frame authenticated"})`,
  );
  const bobList = JSON.parse(
    await cluster.ok(["library", "list", "--json", "--data", bob.dataDir]),
  ) as Array<{
    path: string;
    sender: string | null;
    name: string;
  }>;
  const got = bobList.find((r) => r.name === "holiday.mpg");
  if (!got) {
    out("bob's library does not hold the recording");
    return 1;
  }
  const [a, b] = await Promise.all([sha256Of(path), sha256Of(got.path)]);
  out(`SHA-256 sent:     ${a}`);
  out(`SHA-256 received: ${b}`);
  if (a !== b) {
    out("MISMATCH: the received recording differs");
    return 1;
  }
  out(`byte-identical: yes (filed in bob's library, from ${got.sender})`);

  step(
    "identity fingerprints: each recorder pinned the other at first contact; owners compare them by phone",
  );
  for (const r of [alice, bob]) {
    for (const line of (await cluster.ok(["peers", "--data", r.dataDir])).trim().split("\n"))
      out(`${r.name}: ${line}`);
  }

  step("a refused query: bob tries to send to alice, who has not permitted him");
  const refused = await cluster.run(["send", got.path, "--to", "alice", "--json", "--data", bob.dataDir]);
  const r = summaryOf(refused.stdout);
  out(`exit ${refused.code}, ${r.code}: ${r.message}`);
  if (refused.code === 0 || r.code !== "permission_denied") return 1;

  step("a busy callee: bob switches 'do not disturb' on; alice's send is stored on the node");
  await cluster.ok(["recorder", "busy", "on", "--data", bob.dataDir]);
  out("bob: recorder busy on");
  const mark = bob.proc.lines.length;
  const stored = await cluster.run([
    "send",
    recId,
    "--to",
    "bob",
    "--store-if-busy",
    "--json",
    "--data",
    alice.dataDir,
  ]);
  const st = summaryOf(stored.stdout);
  out(`exit ${stored.code}, mode ${st.mode}: ${st.message}`);
  out(`stored on the node, sealed end to end: ${formatBytes(st.bytesRelay)}`);
  if (stored.code !== 0 || st.mode !== "store") return 1;
  const inbox = await cluster.ok(["inbox", "--data", bob.dataDir]);
  out(`bob: inbox\n${indent(inbox)}`);
  await cluster.ok(["recorder", "busy", "off", "--data", bob.dataDir]);
  out("bob: recorder busy off -> the pickup runs once the load allows");
  await bob.proc.waitForLine(/recorder filed .*holiday\.mpg/, { timeoutMs: 30_000, since: mark });
  const after = JSON.parse(await cluster.ok(["library", "list", "--json", "--data", bob.dataDir])) as Array<{
    name: string;
    sha256: string;
  }>;
  // The stored copy is the same content bob already filed: he verifies it and keeps one entry (issue 19 item 8).
  const copies = after.filter((x) => x.sha256 === a);
  out(
    `bob picked it up and verified it (SHA-256 ${a.slice(0, 16)}…); he already had it, so his library holds it once: ${copies.length === 1 ? "yes" : "NO"}`,
  );
  if (copies.length !== 1) return 1;
  const inbox2 = await cluster.ok(["inbox", "--data", bob.dataDir]);
  out(`bob: inbox\n${indent(inbox2)}`);

  step("done: stopping the recorders and the node, removing the temporary directories");
  return 0;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `   ${l}`)
    .join("\n");
}

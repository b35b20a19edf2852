/** @module Transfer memory probe: one send in the bench's cluster with bench/lib/memory-probe-preload.ts in the send and every daemon, /proc/PID/smaps_rollup sampled from outside; per role, RssAnon over the send's phases, and the raw timelines in bench/out/memory-probe/RUN/. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Cluster } from "../demo/cluster.ts";
import { formatTable } from "./lib/format-table.ts";

const ROOT = join(import.meta.dir, "..");
const USAGE = `Usage: bun bench/transfer-memory-probe.ts [--file F] [--route split|secret] [--runs N] [--ms 50]
  --file   the recording (default bench/out/transfer-1g.m2v: run bench/transfer.ts once to make it)
  --route  split (the default) or secret
  --runs   sends, each in a fresh cluster (default 1)
  --ms     the preload's sampling period (default 50)
  PVRLINK_BIN=FILE  the program (default dist/pvrlink-linux-x64); SEND_ENV=K=V,... extra environment for the send only`;

interface Sample {
  t: number;
  anon?: number;
  mark?: string;
}

/** Anonymous and total resident kB from smaps_rollup; undefined once the process is gone. */
async function rollup(pid: number): Promise<{ anon: number; rss: number } | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
    return { anon: kb("Anonymous"), rss: kb("Rss") };
  } catch {
    return undefined;
  }
}

async function probeOnce(o: { bin: string; file: string; route: string; ms: number; dir: string }) {
  await mkdir(o.dir, { recursive: true });
  // Children take process.env as it is when spawned (demo/child-process.ts): the daemons and the send get the hook.
  process.env.BUN_OPTIONS = `--preload ${join(ROOT, "bench/lib/memory-probe-preload.ts")}`;
  process.env.MEMORY_PROBE_DIR = o.dir;
  process.env.MEMORY_PROBE_MS = String(o.ms);
  await using cluster = await Cluster.start({ command: [o.bin] });
  const alice = await cluster.addRecorder("alice");
  const bob = await cluster.addRecorder("bob");
  await cluster.ok(["permit", "add", "alice", "--data", bob.dataDir]);
  const sendEnv = Object.fromEntries(
    (process.env.SEND_ENV ?? "")
      .split(",")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  const argv = [o.bin, "send", o.file, "--to", "bob", "--json", "--data", alice.dataDir];
  if (o.route === "secret") argv.push("--secret");
  const t0 = Date.now();
  const send = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...sendEnv } });
  const pids = { send: send.pid, node: cluster.node.pid, bob: bob.proc.pid };
  const outside: string[] = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      const t = Date.now();
      for (const [role, pid] of Object.entries(pids)) {
        const r = await rollup(pid);
        if (r) outside.push(JSON.stringify({ t, role, ...r }));
      }
      await Bun.sleep(40);
    }
  })();
  // Each of the send's --json lines, stamped on arrival: its phases ("sending" is pass 2's first read).
  const events: Array<{ t: number; line: string }> = [];
  let rest = "";
  for await (const chunk of send.stdout) {
    rest += new TextDecoder().decode(chunk);
    for (let i = rest.indexOf("\n"); i >= 0; i = rest.indexOf("\n")) {
      events.push({ t: Date.now(), line: rest.slice(0, i) });
      rest = rest.slice(i + 1);
    }
  }
  const code = await send.exited;
  running = false;
  await sampler;
  if (code !== 0)
    throw new Error(`Cannot probe: send exited ${code}: ${await new Response(send.stderr).text()}`);
  const seconds = (Date.now() - t0) / 1000;
  await writeFile(join(o.dir, "outside.jsonl"), `${outside.join("\n")}\n`);
  await writeFile(join(o.dir, "events.jsonl"), `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
  await writeFile(join(o.dir, "pids.json"), `${JSON.stringify(pids)}\n`);
  const pass2 = events.find((e) => e.line.includes('"phase":"sending"'))?.t ?? t0;
  const end = events.find((e) => e.line.includes('"phase":"waiting for'))?.t ?? Date.now();
  return { seconds, pids, pass2, end };
}

/** MiB figures of one role's preload samples in [from, to): highest and median RssAnon. */
function span(rows: Sample[], from: number, to: number): string {
  const a = rows
    .filter((r) => r.anon !== undefined && r.t >= from && r.t < to)
    .map((r) => (r.anon ?? 0) / 1024)
    .sort((x, y) => x - y);
  if (a.length === 0) return "-";
  return `${(a.at(-1) ?? 0).toFixed(1)} / ${(a[Math.floor(a.length / 2)] ?? 0).toFixed(1)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: "string", default: join(ROOT, "bench/out/transfer-1g.m2v") },
      route: { type: "string", default: "split" },
      runs: { type: "string", default: "1" },
      ms: { type: "string", default: "50" },
    },
  });
  const route = values.route ?? "split";
  if (route !== "split" && route !== "secret") throw new SyntaxError(`Unknown route '${route}'\n${USAGE}`);
  const bin = process.env.PVRLINK_BIN ?? join(ROOT, "dist/pvrlink-linux-x64");
  const rows: string[][] = [];
  for (let run = 1; run <= Number(values.runs); run++) {
    const dir = join(ROOT, "bench/out/memory-probe", `${Date.now()}`);
    const r = await probeOnce({ bin, file: values.file ?? "", route, ms: Number(values.ms), dir });
    for (const [role, pid] of Object.entries(r.pids)) {
      const text = await readFile(join(dir, `${pid}.jsonl`), "utf8").catch(() => "");
      const samples = text
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => JSON.parse(l) as Sample);
      rows.push([
        String(run),
        role,
        r.seconds.toFixed(1),
        span(samples, 0, r.pass2 - 300),
        span(samples, r.pass2 - 300, r.pass2),
        span(samples, r.pass2, r.pass2 + 2000),
        span(samples, r.pass2 + 2000, r.end),
        dir.slice(ROOT.length + 1),
      ]);
    }
  }
  console.log(
    formatTable(
      ["run", "role", "s", "before", "300 ms before pass 2", "pass 2 first 2 s", "pass 2 after", "timelines"],
      rows,
    ),
  );
  console.log(
    "\nRssAnon MiB, highest / median, from the preload's samples; the send's phases by its --json lines.",
  );
}

await main();

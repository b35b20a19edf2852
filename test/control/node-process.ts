/** @module Starts the real control node as a child process (`pvrlink control serve` on port 0) for integration tests, and tears it down. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { AdminClient, ControlClient } from "../../protocol/control-client.ts";

const MAIN = join(import.meta.dir, "../../firmware/main.ts");

export interface NodeProcess extends AsyncDisposable {
  readonly dataDir: string;
  readonly baseUrl: string;
  readonly http: { host: string; port: number };
  readonly udp: { host: string; port: number };
  readonly adminToken: string;
  readonly admin: AdminClient;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the node wrote to stderr so far (its log). */
  stderr(): string;
  /** Sends a signal and waits for exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** A ControlClient for an enrolled device. */
  client(cred: { id: string; secret: string }): ControlClient;
  /** Enrolls NAME through the CLI (`pvrlink control enroll`), as an operator would. */
  enroll(name: string): Promise<{ id: string; name: string; secret: string }>;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), "pvrlink-control-"));
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/**
 * Spawns the node on 127.0.0.1 port 0 and reads the first stdout line for the bound addresses.
 * With keepData the directory survives stop() (restart tests remove it themselves).
 */
export async function startNode(
  o: { dataDir?: string; config?: Record<string, unknown>; keepData?: boolean } = {},
): Promise<NodeProcess> {
  const dataDir = o.dataDir ?? makeDataDir();
  const args = [
    "bun",
    MAIN,
    "control",
    "serve",
    "--data",
    dataDir,
    "--http",
    "127.0.0.1:0",
    "--udp",
    "127.0.0.1:0",
  ];
  if (o.config) {
    const file = join(dataDir, "test-config.json");
    writeFileSync(file, JSON.stringify(o.config));
    args.push("--config", file);
  }
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let errText = "";
  const errReader = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) errText += dec.decode(chunk, { stream: true });
  })();
  const reader = proc.stdout.getReader();
  let out = "";
  const dec = new TextDecoder();
  while (!out.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) {
      await errReader;
      throw new Error(`control node exited before its first line: ${errText}`);
    }
    out += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  const first = JSON.parse(out.slice(0, out.indexOf("\n"))) as { http: string; udp: string };
  const http = hostPort(first.http);
  const udp = hostPort(first.udp);
  const baseUrl = `http://${first.http}`;
  const adminToken = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  const admin = new AdminClient(baseUrl, adminToken);
  let exited: Promise<number | null> | null = null;
  const stop = (signal: NodeJS.Signals = "SIGTERM") => {
    if (!exited) {
      proc.kill(signal);
      exited = proc.exited.then(async (c) => {
        await errReader;
        return signal === "SIGKILL" ? null : c;
      });
    }
    return exited;
  };
  return {
    dataDir,
    baseUrl,
    http,
    udp,
    adminToken,
    admin,
    proc,
    stderr: () => errText,
    stop,
    client: (cred) => new ControlClient({ baseUrl, deviceId: cred.id, secret: cred.secret }),
    async enroll(name) {
      const p = Bun.spawn(["bun", MAIN, "control", "enroll", name, "--data", dataDir], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const [text, err, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      if (code !== 0) throw new Error(`enroll ${name} failed (${code}): ${err}`);
      return JSON.parse(text) as { id: string; name: string; secret: string };
    },
    async [Symbol.asyncDispose]() {
      await stop();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

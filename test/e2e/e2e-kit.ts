/** @module Shared pieces of the end-to-end tests: the alice-and-bob stage, sends, a recording TCP tap, byte windows, scripted load. */
import { stat, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import type { ByteRange } from "../../codec/recording-index.ts";
import type { HostPort, RunResult } from "../../demo/child-process.ts";
import { Cluster, type ClusterOptions } from "../../demo/cluster.ts";
import { compiledBinary } from "../support/compiled-binary.ts";

/** The binary under test (test/support/compiled-binary.ts). */
export const binary = (): string => compiledBinary("End-to-end tests");

export function startCluster(o: Omit<ClusterOptions, "command"> = {}): Promise<Cluster> {
  return Cluster.start({
    command: [binary()],
    ...(process.env.PVRLINK_E2E_VERBOSE
      ? { echo: (l: string, s: string) => console.error(`[${l}] ${s}`) }
      : {}),
    ...o,
  });
}

/** A cluster with recorders alice and bob, bob permitting alice: the stage most end-to-end tests start from. */
export async function startAliceAndBob(
  o: Omit<ClusterOptions, "command"> & { bobLoadDir?: (c: Cluster) => Promise<string> } = {},
): Promise<Cluster> {
  const { bobLoadDir, ...clusterOptions } = o;
  const cluster = await startCluster(clusterOptions);
  try {
    await cluster.addRecorder("alice");
    await cluster.addRecorder("bob", bobLoadDir ? { loadDir: await bobLoadDir(cluster) } : {});
    await cluster.permit("bob", "alice");
    return cluster;
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
}

/** `pvrlink send FILE --to bob --json FLAGS...` run by alice: how most end-to-end tests send. */
export function sendToBob(cluster: Cluster, file: string, flags: string[] = []): Promise<RunResult> {
  return cluster.recorderRun("alice", ["send", file, "--to", "bob", "--json", ...flags]);
}

/**
 * A TCP proxy that records both directions and can throttle the client-to-server direction (bytes per
 * second), so a transfer lasts long enough for a lease extension, a forced end or a node restart.
 */
export class Tap implements AsyncDisposable {
  readonly up: Buffer[] = [];
  readonly down: Buffer[] = [];
  readonly #sockets = new Set<Socket>();
  #server!: Server;
  port = 0;

  constructor(
    readonly target: HostPort,
    /** Bytes per second upstream (0: unthrottled); may be changed while running, from the next 16 KiB piece on. */
    public rateBytesPerSec = 0,
  ) {}

  static async start(target: HostPort, rateBytesPerSec = 0): Promise<Tap> {
    const t = new Tap(target, rateBytesPerSec);
    t.#server = createServer((client) => t.#serve(client));
    await new Promise<void>((r) => t.#server.listen(0, "127.0.0.1", r));
    t.port = (t.#server.address() as { port: number }).port;
    return t;
  }

  #serve(client: Socket): void {
    const server = connect({ host: this.target.host, port: this.target.port });
    this.#sockets.add(client).add(server);
    client.on("error", () => {});
    server.on("error", () => {});
    server.on("data", (d: Buffer) => {
      this.down.push(Buffer.from(d));
      client.write(d);
    });
    server.on("close", () => client.destroy());
    client.on("close", () => server.destroy());
    let queue = Promise.resolve();
    client.on("data", (d: Buffer) => {
      this.up.push(Buffer.from(d));
      if (this.rateBytesPerSec <= 0) {
        server.write(d);
        return;
      }
      client.pause();
      queue = queue.then(async () => {
        for (let at = 0; at < d.length; at += 16_384) {
          const piece = d.subarray(at, at + 16_384);
          if (server.destroyed) return;
          server.write(piece);
          await Bun.sleep((piece.length / this.rateBytesPerSec) * 1000);
        }
        client.resume();
      });
    });
    client.on("end", () => void queue.then(() => server.end()));
  }

  upstream(): Buffer {
    return Buffer.concat(this.up);
  }

  /** Cuts every connection at once, dropping what the throttle still holds (the path dies with its sender). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** n windows of `size` bytes from inside ranges (spread over them), each unique in `bytes` outside those ranges. */
export function windowsInside(
  bytes: Uint8Array,
  ranges: readonly ByteRange[],
  n: number,
  size = 24,
  outside?: Buffer,
): Buffer[] {
  const rest = outside ?? complement(bytes, ranges);
  const out: Buffer[] = [];
  const usable = ranges.filter((r) => r.length >= size * 3);
  for (let i = 0; i < usable.length * 4 && out.length < n; i++) {
    const r = usable[i % usable.length] as ByteRange;
    const at = r.offset + Math.floor((((i * 7919) % 97) / 97) * (r.length - size));
    const w = Buffer.from(bytes.subarray(at, at + size));
    if (rest.indexOf(w) < 0 && !out.some((x) => x.equals(w))) out.push(w);
  }
  return out;
}

/** The bytes outside ranges, concatenated (a split's direct body). */
export function complement(bytes: Uint8Array, ranges: readonly ByteRange[]): Buffer {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const r of ranges) {
    parts.push(bytes.subarray(at, r.offset));
    at = r.offset + r.length;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}

/** The gaps between ranges (the P/B pictures and headers of a video), as ranges. */
export function gaps(total: number, ranges: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  let at = 0;
  for (const r of ranges) {
    if (r.offset > at) out.push({ offset: at, length: r.offset - at });
    at = r.offset + r.length;
  }
  if (total > at) out.push({ offset: at, length: total - at });
  return out;
}

/** The protected (I-picture) ranges the codec finds in a recording, and its I-picture count. */
export function protectedRangesOf(bytes: Uint8Array): { ranges: ByteRange[]; iPictures: number } {
  const idx = indexRecording(bytes);
  return { ranges: idx.protectedRanges, iPictures: idx.counts.I };
}

export async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

export function contains(hay: Buffer, needle: Buffer): boolean {
  return hay.indexOf(needle) >= 0;
}

export interface LibraryEntry {
  id: string;
  name: string;
  sha256: string;
  size: number;
  secret: boolean;
  sender: string | null;
  path: string;
}

export async function libraryOf(cluster: Cluster, name: string): Promise<LibraryEntry[]> {
  return JSON.parse(
    await cluster.ok(["library", "list", "--json", "--data", cluster.recorder(name).dataDir]),
  );
}

/**
 * A scripted /proc/stat for one recorder (--load-from): busy adds busy ticks, idle adds idle ticks, every
 * 100 ms, so the recorder's own LoadMonitor sees its CPU share rise past the limit and fall back.
 */
export class ScriptedLoad implements Disposable {
  #busy = 0;
  #idle = 0;
  #timer: ReturnType<typeof setInterval>;
  busy = false;

  constructor(readonly dir: string) {
    this.#timer = setInterval(() => void this.#tick(), 100);
  }

  async #tick(): Promise<void> {
    if (this.busy) this.#busy += 100;
    else this.#idle += 1000;
    const line = `cpu  ${this.#busy} 0 0 ${this.#idle} 0 0 0 0 0 0`;
    await writeFile(join(this.dir, "stat"), `${line}\ncpu0 ${line.slice(5)}\n`);
  }

  async ready(): Promise<void> {
    await this.#tick();
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

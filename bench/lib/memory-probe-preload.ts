/** @module Memory probe preload (BUN_OPTIONS="--preload FILE", honoured by the compiled binary): a send's or a recorder daemon's RssAnon, memoryUsage(), heapStats(), fetch calls, WebCrypto calls in flight and socket backlog, every MEMORY_PROBE_MS into MEMORY_PROBE_DIR/PID.jsonl. */

import { heapStats } from "bun:jsc";
import { openSync, readFileSync, writeSync } from "node:fs";
import { Socket } from "node:net";

/** Only the roles a transfer bench looks at; the bench process that spawns them (and any other) is left alone. */
const ROLE = / send | recorder run | control serve /.exec(` ${process.argv.slice(1).join(" ")} `);
const DIR = process.env.MEMORY_PROBE_DIR;

if (ROLE && DIR) {
  const fd = openSync(`${DIR}/${process.pid}.jsonl`, "w");
  const line = (o: object) => writeSync(fd, `${JSON.stringify(o)}\n`);
  const kib = (n: number) => Math.round(n / 1024);
  line({ argv: process.argv.slice(1, 4) });
  // Marks: each fetch() (the relay PUT or download starting, the node's API calls).
  const fetch0 = globalThis.fetch;
  const marked = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    line({ t: Date.now(), mark: `fetch ${init?.method ?? "GET"} ${url.replace(/^\w+:\/\/[^/]+/, "")}` });
    return fetch0(input, init);
  };
  globalThis.fetch = Object.assign(marked, fetch0);
  // WebCrypto calls in flight: each holds a native copy of its input until its promise settles.
  const crypto = { inFlight: 0, bytes: 0, maxBytes: 0, calls: 0 };
  for (const op of ["encrypt", "decrypt"] as const) {
    const orig = SubtleCrypto.prototype[op];
    SubtleCrypto.prototype[op] = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto["encrypt"]>) {
      const bytes = args[2].byteLength;
      crypto.inFlight++;
      crypto.calls++;
      crypto.bytes += bytes;
      crypto.maxBytes = Math.max(crypto.maxBytes, crypto.bytes);
      const done = () => {
        crypto.inFlight--;
        crypto.bytes -= bytes;
      };
      const p = orig.apply(this, args);
      p.then(done, done);
      return p;
    };
  }
  // The highest unflushed socket backlog after a write (the direct channel's sealed frames).
  let backlog = 0;
  const write0 = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    const r = (write0 as (...a: unknown[]) => boolean).apply(this, args);
    backlog = Math.max(backlog, this.writableLength);
    return r;
  } as typeof write0;
  const ms = Number(process.env.MEMORY_PROBE_MS ?? 50);
  let n = 0;
  setInterval(() => {
    const anon = Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
    const m = process.memoryUsage();
    const row: Record<string, number | undefined> = {
      t: Date.now(),
      anon,
      heapUsed: kib(m.heapUsed),
      arrayBuffers: kib(m.arrayBuffers),
      cryptoInFlight: crypto.inFlight,
      cryptoMaxBytes: kib(crypto.maxBytes),
      cryptoCalls: crypto.calls,
      socketBacklog: kib(backlog),
    };
    crypto.maxBytes = crypto.bytes;
    backlog = 0;
    // heapStats() walks the heap to count object types: every 8th sample only.
    if (n++ % 8 === 0) {
      const h = heapStats();
      row.jscHeap = kib(h.heapSize);
      row.extraMemory = kib(h.extraMemorySize);
      row.arrayBufferObjects = h.objectTypeCounts.ArrayBuffer;
      row.promises = h.objectTypeCounts.Promise;
    }
    line(row);
  }, ms).unref();
}

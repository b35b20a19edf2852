/** @module A relay-only node for the kill -9 test: serves createRelayRoutes over DATA_DIR, prints its address as JSON, runs until killed. */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { relayApp, SESSIONS } from "./relay-harness.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: spool-server-fixture.ts DATA_DIR");
const spoolDir = join(dir, "spool");
mkdirSync(spoolDir, { recursive: true });
const db = new Database(join(dir, "control.db"), { create: true });
db.run("PRAGMA journal_mode = WAL");
const app = relayApp({
  db,
  spoolDir,
  thresholdBytes: 64 * 1024 * 1024,
  quotaBytes: 256 * 1024 * 1024,
  ttlSec: 3600,
  getSession: async (id) => SESSIONS[id] ?? null,
  notify: () => {},
  onBytes: () => {},
  syncEveryBytes: 64 * 1024,
  log: (m) => console.error(m),
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: app.fetch,
  maxRequestBodySize: 128 * 1024 * 1024,
});
console.log(JSON.stringify({ http: `127.0.0.1:${server.port}` }));

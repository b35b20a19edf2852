/** @module A relay-only node for the kill -9 tests: serves createRelayRoutes over DATA_DIR (or a given store and spool), prints its address as JSON, runs until killed. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FileBlobs } from "../../control/spool/file-blobs.ts";
import { type SpoolBackendConfig, spoolBlobsFor } from "../../control/spool/spool-backend.ts";
import { SpoolStore } from "../../control/spool/spool-store.ts";
import { openControlStore } from "../../control/store/open-control-store.ts";
import { relayApp, SESSIONS } from "../support/relay-harness.ts";

/** argv: DATA_DIR [JSON {store?, spool?, s3Endpoint?, ...}]: without the JSON, sqlite in DATA_DIR and its spool directory. */
const dir = process.argv[2];
if (!dir) throw new Error("usage: spool-server-fixture.ts DATA_DIR [CONFIG_JSON]");
const given = JSON.parse(process.argv[3] ?? "{}") as Partial<SpoolBackendConfig> & { store?: string };
const spoolDir = join(dir, "spool");
mkdirSync(spoolDir, { recursive: true });
const db = await openControlStore(given.store ?? join(dir, "control.db"));
const blobs =
  given.spool == null
    ? () => new FileBlobs(spoolDir, { syncEveryBytes: 64 * 1024 })
    : spoolBlobsFor(
        {
          spool: given.spool,
          s3Endpoint: given.s3Endpoint ?? null,
          s3Region: given.s3Region ?? null,
          s3AccessKeyId: given.s3AccessKeyId ?? null,
          s3SecretAccessKey: given.s3SecretAccessKey ?? null,
          spoolPartBytes: given.spoolPartBytes ?? 64 * 1024,
          nodeId: null,
        },
        spoolDir,
      );
const app = relayApp({
  spool: new SpoolStore(db, blobs),
  thresholdBytes: 64 * 1024 * 1024,
  quotaBytes: 256 * 1024 * 1024,
  ttlSec: 3600,
  getSession: async (id) => SESSIONS[id] ?? null,
  notify: () => {},
  onBytes: () => {},
  followPollMs: 50,
  log: (m) => console.error(m),
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: app.fetch,
  maxRequestBodySize: 128 * 1024 * 1024,
});
console.log(JSON.stringify({ http: `127.0.0.1:${server.port}` }));

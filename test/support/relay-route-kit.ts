/** @module Test kit for the relay routes on every store and spool backend: the backends, a harness on them, request helpers. */
import { createHash } from "node:crypto";
import type { RelayDeps } from "../../control/relay/relay-context.ts";
import type { StoreKind } from "../../control/store/sql-driver.ts";
import { startHarness } from "./relay-harness.ts";
import { type SpoolKind, spoolBackend } from "./spool-backends.ts";
import { nodeStore, storeBackend } from "./store-backends.ts";

export const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
export const bytesOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());
export const errOf = async (r: Response) =>
  ((await r.json()) as { error: { code: string; received?: number } }).error;

/** The store and spool backends the routes run on: the default node, the same on S3, and a cluster's pair. */
export const RELAY_BACKENDS: ReadonlyArray<[StoreKind, SpoolKind]> = [
  ["sqlite", "file"],
  ["sqlite", "s3"],
  ["postgres", "s3"],
];

/**
 * Registers the backends' servers on the calling describe: the store and spool backends, and a harness starter on
 * them (syncEveryBytes is also the S3 part size, so parts are crossed).
 */
export function relayBackends(storeKind: StoreKind, spoolKind: SpoolKind) {
  const stores = storeBackend(storeKind);
  const spools = spoolBackend(spoolKind);
  const start = async (over: Partial<RelayDeps> = {}, o: { syncEveryBytes?: number } = {}) => {
    const store = await nodeStore(stores);
    return startHarness(over, {
      spool: (dir) =>
        spools.blobs(dir, {
          ...(o.syncEveryBytes !== undefined ? { syncEveryBytes: o.syncEveryBytes } : {}),
          partBytes: o.syncEveryBytes ?? 64 * 1024,
        }),
      ...(store !== undefined ? { store } : {}),
    });
  };
  return { stores, spools, start };
}

/** POST /v1/transfers as `device`: the status and the body. */
export async function createTransfer(
  h: Awaited<ReturnType<typeof startHarness>>,
  body: object,
  device = "dev_a",
) {
  const r = await h.call(device, "POST", "/v1/transfers", body);
  return {
    status: r.status,
    json: (await r.json()) as { transfer: { id: string }; error: { code: string } },
  };
}

/** @module A control node's app over an in-memory database and a temporary spool, for route tests without sockets. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import {
  type ControlContext,
  createControlApp,
  createControlContext,
  NO_TRIGGERS,
} from "../../control/control-app.ts";
import { DEFAULT_CONFIG } from "../../control/control-config.ts";
import { openControlStore } from "../../control/store/open-control-store.ts";

export const TEST_ADMIN_TOKEN = "adm_route-tests-0123456789";

export interface InMemoryNode extends Disposable {
  app: Hono;
  ctx: ControlContext;
  /** An admin API call with the bearer token. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
}

export async function inMemoryNode(): Promise<InMemoryNode> {
  const spoolDir = mkdtempSync(join(tmpdir(), "pvrlink-route-spool-"));
  const db = await openControlStore(":memory:");
  const ctx = await createControlContext({
    config: { ...DEFAULT_CONFIG, maxBodyBytes: 4096 },
    store: db,
    adminToken: TEST_ADMIN_TOKEN,
    spoolDir,
    triggers: NO_TRIGGERS,
  });
  const app = createControlApp(ctx);
  return {
    app,
    ctx,
    async admin(method, path, body) {
      return app.request(path, {
        method,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    },
    [Symbol.dispose]() {
      void db.close();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

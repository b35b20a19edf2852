/** @module HTTP routes of the relay and store-and-forward spool: transfer, streamed upload/download, complete, ack, inbox. */
import { type Context, Hono } from "hono";
import { ApiError } from "../errors/api-error.ts";
import { acknowledgeTransfer } from "./acknowledge-transfer.ts";
import { cancelTransfer } from "./cancel-transfer.ts";
import { completeTransfer } from "./complete-transfer.ts";
import { createTransfer } from "./create-transfer.ts";
import { downloadTransfer } from "./download-transfer.ts";
import { listInbox } from "./list-inbox.ts";
import { RelayContext, type RelayDeps, type RelayEnv } from "./relay-context.ts";
import { idOf, transferInfo } from "./relay-request.ts";
import { uploadTransfer } from "./upload-transfer.ts";

export type { RelayDeps, RelaySession } from "./relay-context.ts";

/** One route's work over the shared context; refusals are thrown as ApiErrors. */
type RelayHandler = (ctx: RelayContext, c: Context<RelayEnv>) => Promise<Response> | Response;

/**
 * Routes mounted under /v1 after the device auth middleware (which sets c.get("deviceId")). Only a session's
 * caller uploads; only its callee downloads and acknowledges; both may read the transfer's state.
 */
export function createRelayRoutes(
  deps: RelayDeps,
): Hono<RelayEnv> & { sweep(): Promise<void>; started: Promise<void> } {
  const ctx = new RelayContext(deps);
  // Own refusals become the API's error shape here, so this module behaves the same mounted or standalone;
  // anything else propagates to the node's onError (500, detail to the log only).
  const route =
    (h: RelayHandler) =>
    async (c: Context<RelayEnv>): Promise<Response> => {
      try {
        await ctx.ready;
        await ctx.sweep();
        return await h(ctx, c);
      } catch (e) {
        if (e instanceof ApiError) return c.json(e.body(), e.status);
        throw e;
      }
    };

  const app = new Hono<RelayEnv>()
    .post("/transfers", route(createTransfer))
    .get("/transfers/:id", route(transferState))
    .delete("/transfers/:id", route(cancelTransfer))
    .put("/transfers/:id/data", route(uploadTransfer))
    .post("/transfers/:id/complete", route(completeTransfer))
    .get("/transfers/:id/data", route(downloadTransfer))
    .post("/transfers/:id/ack", route(acknowledgeTransfer))
    .get("/inbox", route(listInbox));
  // The node's housekeeping timer sweeps too (control-node.ts): an idle node must not keep partial spool
  // files of sessions that are over until the next relay request comes (issue 19 item 10).
  return Object.assign(app, { sweep: () => ctx.sweep(), started: ctx.started });
}

/** GET /transfers/:id: either peer reads the transfer's state. */
async function transferState(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  return c.json(transferInfo(await ctx.entryFor(idOf(c), c.get("deviceId"), "either")));
}

/** @module POST /transfers: the session's caller opens a relay or store transfer; a live relay is announced at once. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";
import { idempotencyKeyOf } from "../http/idempotency-key.ts";
import type { TransferKind } from "../spool/spool-store.ts";
import type { RelayContext, RelayEnv, RelaySession } from "./relay-context.ts";
import { positiveInt, readJsonObject, transferInfo } from "./relay-request.ts";

const MAX_LABEL_CHARS = 200;
const MAX_SESSION_ID_CHARS = 128;

/** The body of POST /transfers, checked. */
interface CreateRequest {
  sessionId: string;
  size: number;
  kind: TransferKind;
  label: string | null;
}

/** Checks the body's fields in a fixed order, so the first bad one is the one reported. */
function readCreateRequest(o: Record<string, unknown>): CreateRequest {
  const sessionId = o.session;
  if (typeof sessionId !== "string" || sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_CHARS) {
    throw new ApiError(400, "bad_request", "Invalid field 'session': must be a session id");
  }
  const size = positiveInt(o.size, "size");
  const kind = o.kind;
  if (kind !== "relay" && kind !== "store") {
    throw new ApiError(400, "bad_request", 'Invalid field \'kind\': must be "relay" or "store"');
  }
  const label = o.label ?? null;
  if (label !== null && (typeof label !== "string" || label.length > MAX_LABEL_CHARS)) {
    throw new ApiError(
      400,
      "bad_request",
      `Invalid field 'label': must be a string of at most ${MAX_LABEL_CHARS}`,
    );
  }
  return { sessionId, size, kind, label };
}

/** Only the caller of an active session sends; a live relay needs a live session. */
async function sessionFor(ctx: RelayContext, req: CreateRequest, me: string): Promise<RelaySession> {
  const s = await ctx.deps.getSession(req.sessionId);
  if (!s) throw new ApiError(404, "session_not_found", "No such session");
  if (s.callerId !== me) {
    throw new ApiError(403, "not_participant", "Only the session's caller may send through the node");
  }
  if (s.state !== "active") throw new ApiError(409, "session_ended", "The session has ended");
  if (req.kind === "relay" && s.mode !== "live") {
    throw new ApiError(409, "session_mode_mismatch", 'A live relay needs a live session; use kind "store"');
  }
  return s;
}

/**
 * Creates the entry (the store enforces the sender's quota and the node's cap in one transaction) and answers
 * 201 with the transfer. A retry with the same idempotency key answers 200 with the transfer it created.
 */
export async function createTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const me = c.get("deviceId");
  const body = await readJsonObject(c);
  const req = readCreateRequest(body);
  const idempotencyKey = idempotencyKeyOf(c, body);
  const s = await sessionFor(ctx, req, me);
  const { thresholdBytes } = ctx.deps;
  if (req.size > thresholdBytes) {
    throw new ApiError(
      413,
      "transfer_too_large",
      `Transfer of ${req.size} bytes exceeds the node's threshold`,
      {
        details: { threshold: thresholdBytes },
      },
    );
  }
  const capacity = ctx.capacity;
  const now = ctx.now();
  const { entry: e, created } = await ctx.store.create(
    {
      sessionId: req.sessionId,
      senderId: me,
      recipientId: s.calleeId,
      kind: req.kind,
      size: req.size,
      label: req.label,
      ttlSec: ctx.deps.ttlSec,
      quotaBytes: ctx.deps.quotaBytes,
      idempotencyKey,
      ...(capacity ? { admit: (q) => capacity.admitTransfer(req.size, now, q) } : {}),
    },
    now,
  );
  if (!created) return c.json({ transfer: transferInfo(e) }, 200);
  ctx.log(`spool: ${e.id} created (${req.kind}, ${req.size} bytes, session ${req.sessionId})`);
  // A live relay is announced at once so the callee can follow the upload; stored data only once complete.
  if (req.kind === "relay") {
    ctx.deps.notify(s.calleeId, "data", { transfer: e.id, session: req.sessionId, kind: req.kind });
  }
  return c.json({ transfer: transferInfo(e) }, 201);
}

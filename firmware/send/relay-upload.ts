/** @module The relay side of a send: its transfers made on the node with their sealed size, each relay stream encoded from the file, uploaded by a streamed PUT and resumed at the node's offset after a restart. */
import { InputError } from "../../cli/command.ts";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { splitOffsetsAt } from "../../codec/split/split-offsets.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { openInput, readChunks, SEND_CHUNK_BYTES } from "../files/recording-file.ts";
import {
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayStreamId,
} from "../transfer/relay-stream.ts";
import { RelayStreamEncoder, relayStreamSize } from "../transfer/relay-stream-encoder.ts";
import { PrefixSkip } from "./prefix-skip.ts";
import { RelayUploadError } from "./relay-upload-error.ts";
import type { SendPlan } from "./send-plan.ts";
import { UploadAttempt } from "./upload-attempt.ts";

/** How long a resume waits for the node to come back before it gives up with ERR_RELAY_UPLOAD. */
export const DEFAULT_RESUME_WINDOW_MS = 60_000;
/** Upload attempts per transfer (the first plus resumes). */
const MAX_ATTEMPTS = 6;

export type RelayPart = "whole" | "protected" | "direct";

export const STREAM_OF: Record<RelayPart, RelayStreamId> = {
  whole: RELAY_STREAM_WHOLE,
  protected: RELAY_STREAM_PROTECTED,
  direct: RELAY_STREAM_DIRECT,
};

/** What seals a session's relay streams: the relay key and the session id its records are bound to. */
export interface RelaySeal {
  key: CryptoKey;
  sessionId: string;
  /** A store session's HPKE enc (crypto/hpke-store-key.ts): its stream carries the store prefix. */
  storeEnc?: Uint8Array | undefined;
}

/** One relay stream of a plan: its part, and what its manifest says beyond the plan. */
export interface RelayStreamSpec {
  part: RelayPart;
  /** This device's name, the manifest's sender. */
  sender: string;
  /** Split fallback: the protected part's manifest names the direct part's transfer. */
  siblingTransferId?: string | undefined;
  /**
   * A resumed live send: the callee holds the original's first `from` bytes, so the stream carries only what
   * follows (a whole stream: the rest of the file; a split part: its header and the rest of its body).
   */
  from?: number | undefined;
}

/** Body bytes of a part (or of the whole file) a stream resumed at `from` leaves out. */
function skippedOf(plan: SendPlan, part: RelayPart, from: number): number {
  if (from === 0) return 0;
  if (part === "whole" || plan.split === undefined) return from;
  return splitOffsetsAt(plan.split.ranges, plan.size, from)[part];
}

/** The manifest (record 0) of one relay stream of a plan. */
export function manifestFor(plan: SendPlan, spec: RelayStreamSpec): RelayManifest {
  const { part, sender, siblingTransferId } = spec;
  const from = spec.from ?? 0;
  const size =
    (part === "whole"
      ? plan.size
      : part === "protected"
        ? (plan.split?.protectedSize ?? 0)
        : (plan.split?.directSize ?? 0)) - skippedOf(plan, part, from);
  return {
    name: plan.name,
    kind: part === "whole" ? "whole" : part === "protected" ? "split-protected" : "split-direct",
    size,
    originalSize: plan.size,
    sha256: plan.sha256,
    recordingType: plan.recordingType,
    secret: plan.secret,
    sender,
    ...(siblingTransferId !== undefined ? { siblingTransferId } : {}),
    ...(from > 0 ? { from } : {}),
  };
}

/**
 * Encodes one relay stream of the plan from the file, start to end: MANIFEST, the part's payload (the split
 * header then the routed body, or the whole file), END. A file that changed length since pass 1 is refused.
 * Sealing is deterministic, so this is also what a resumed upload re-encodes and skips into.
 */
export async function* encodeFromFile(
  seal: RelaySeal,
  plan: SendPlan,
  spec: RelayStreamSpec,
): AsyncGenerator<Uint8Array> {
  const { part } = spec;
  const enc = new RelayStreamEncoder(seal.key, seal.sessionId, STREAM_OF[part], { storeEnc: seal.storeEnc });
  yield await enc.manifest(manifestFor(plan, spec));
  await using input = await openInput(plan.path);
  const router =
    part === "whole" || plan.split === undefined ? undefined : new RangeRouter(plan.split.ranges, plan.size);
  if (plan.split && part !== "whole") {
    yield* await enc.data(part === "protected" ? plan.split.protectedHeader : plan.split.directHeader);
  }
  // A whole stream resumed at `from` reads from there; a split part routes the whole file (the ranges are
  // positions in it) and leaves out the body bytes the callee holds.
  const from = spec.from ?? 0;
  let size = router === undefined ? from : 0;
  const skip = new PrefixSkip(router === undefined ? 0 : skippedOf(plan, part, from));
  const chunks = readChunks(input, { reuse: true, chunkBytes: SEND_CHUNK_BYTES, from: size });
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > plan.size) break;
    if (router === undefined) {
      yield* await enc.data(chunk);
      continue;
    }
    const routed = router.push(chunk);
    for (const piece of part === "protected" ? routed.protected : routed.direct) {
      const rest = skip.take(piece);
      if (rest) yield* await enc.data(rest);
    }
  }
  if (size !== plan.size) {
    throw new InputError(
      `Cannot send ${plan.path}: it changed while being sent (${size} bytes, expected ${plan.size})`,
      "ERR_SEND_SOURCE_CHANGED",
    );
  }
  yield* await enc.end();
}

/**
 * A fresh encoding of a whole relay stream, from its first byte: what a resume re-reads. Each chunk is a fresh
 * buffer nobody else holds (RelayStreamEncoder's records), so the upload frees it once fetch has taken it.
 */
export type EncodedSource = () => AsyncIterable<Uint8Array>;

export interface ResumeOptions {
  /** Log lines for the CLI ("node went away at 12 MiB; resuming"). */
  log?: (line: string) => void;
  windowMs?: number;
  /**
   * Epoch ms after which a node that stays away ends the upload, read when an outage begins: the session's
   * lease, since a node that returns after it would refuse the session anyway.
   */
  deadline?: () => number;
  signal?: AbortSignal;
}

export interface CompleteOptions extends ResumeOptions {
  source: EncodedSource;
  /** The first attempt, already fed by the caller's single pass over the file; without it one is made here. */
  first?: UploadAttempt | undefined;
  /** The first attempt starts at the node's received offset (send --resume), not at 0. */
  startAtNode?: boolean;
}

/** Polls the transfer until the node answers: its received count. Throws RelayUploadError when it stays away. */
async function nodeReceived(client: ControlClient, id: string, o: ResumeOptions): Promise<number> {
  const start = Date.now();
  const window = start + (o.windowMs ?? DEFAULT_RESUME_WINDOW_MS);
  const lease = o.deadline?.() ?? Number.POSITIVE_INFINITY;
  const deadline = Math.min(window, lease);
  let last: unknown;
  // At least one question, even when the deadline has passed: a node that is back answers at once.
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    if (o.signal?.aborted) throw new RelayUploadError("Relay upload aborted");
    try {
      return (await client.transfer(id)).received;
    } catch (err) {
      last = err;
      if (err instanceof ControlApiError && err.status < 500 && err.status !== 429) {
        throw new RelayUploadError(`Cannot resume relay transfer ${id}: ${err.message}`, err.code);
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await Bun.sleep(Math.min(wait, left));
  }
  throw new RelayUploadError(
    `Cannot resume relay transfer ${id}: the node did not answer for ${((Date.now() - start) / 1000).toFixed(1)} s${lease <= window ? ", and the session's lease ran out meanwhile" : ""} (${String((last as Error)?.message ?? last)})`,
  );
}

function errorOf(r: { received: number } | Error): string {
  return r instanceof Error ? r.message : `node holds ${r.received} bytes`;
}

/**
 * Drives a transfer to completion: the first attempt (if given) and then resumes from `source` at the node's
 * received offset, until the node holds all `size` bytes; then POST .../complete with the encoded stream's
 * SHA-256, so the node checks what it stored.
 */
export async function completeUpload(
  client: ControlClient,
  transfer: RelayTransfer,
  o: CompleteOptions,
): Promise<{ attempts: number }> {
  let attempts = 0;
  let sha256: string | undefined;
  let result: { received: number } | Error | undefined;
  if (o.first) {
    attempts++;
    result = await o.first.finish();
    sha256 = o.first.digest();
  }
  for (;;) {
    if (result !== undefined && !(result instanceof Error) && result.received === transfer.size) break;
    if (result instanceof ControlApiError && result.status < 500 && result.code !== "upload_in_progress") {
      if (result.code !== "offset_mismatch") {
        throw new RelayUploadError(`Relay upload to ${transfer.id} refused: ${result.message}`, result.code);
      }
    }
    if (attempts >= MAX_ATTEMPTS) {
      throw new RelayUploadError(
        `Relay upload to ${transfer.id} failed after ${attempts} attempts: ${result === undefined ? "no attempt" : errorOf(result)}`,
      );
    }
    const received = attempts === 0 && !o.startAtNode ? 0 : await nodeReceived(client, transfer.id, o);
    if (attempts > 0) o.log?.(`relay upload interrupted (${errorOf(result!)}); resuming at byte ${received}`);
    else if (o.startAtNode)
      o.log?.(`the node holds ${received} of ${transfer.size} bytes; resuming at byte ${received}`);
    if (received === transfer.size && sha256 !== undefined) break;
    attempts++;
    const attempt = new UploadAttempt(client, transfer.id, received, { owned: true });
    for await (const bytes of o.source()) {
      if (o.signal?.aborted) break;
      await attempt.push(bytes);
    }
    if (attempt.bytesSeen !== transfer.size && !o.signal?.aborted) {
      await attempt.finish();
      throw new RelayUploadError(
        `Relay stream for ${transfer.id} encoded ${attempt.bytesSeen} bytes, not the declared ${transfer.size}`,
      );
    }
    result = await attempt.finish();
    sha256 = attempt.digest();
    if (o.signal?.aborted) throw new RelayUploadError("Relay upload aborted");
  }
  for (let i = 0; ; i++) {
    try {
      await client.completeTransfer(transfer.id, { size: transfer.size, ...(sha256 ? { sha256 } : {}) });
      return { attempts };
    } catch (err) {
      const retry =
        !(err instanceof ControlApiError) || err.status >= 500 || err.code === "upload_in_progress";
      if (!retry || i >= 20) {
        throw new RelayUploadError(
          `Cannot complete relay transfer ${transfer.id}: ${(err as Error).message}`,
        );
      }
      await Bun.sleep(250);
    }
  }
}

/** What the relay side of one send works with: the node, the plan, the session's seal, and when to give up. */
export interface RelayUploadContext {
  client: ControlClient;
  plan: SendPlan;
  seal: RelaySeal;
  signal: AbortSignal;
  /** When the session's lease ends (epoch ms): a resume waits no longer. */
  deadline: () => number;
  log: (line: string) => void;
  /** Bytes of the recording done, for the progress line. */
  progress: (done: number) => void;
}

/** A relay transfer on the node: its id and the exact sealed size it was declared with. */
export type RelayTransfer = { id: string; size: number };

/** Makes the node transfer for one relay stream, declaring its exact sealed size; the node's refusal is thrown. */
export async function createRelayTransfer(
  rc: RelayUploadContext,
  spec: RelayStreamSpec,
  kind: "relay" | "store",
): Promise<RelayTransfer> {
  const size = relayStreamSize(manifestFor(rc.plan, spec), { store: rc.seal.storeEnc !== undefined });
  const { transfer } = await rc.client.createTransfer({
    session: rc.seal.sessionId,
    size,
    kind,
    label: rc.plan.name,
  });
  return { id: transfer.id, size };
}

/** Uploads one relay stream encoded from the file, with progress, resumed after a node restart. */
export async function uploadFromFile(
  rc: RelayUploadContext,
  transfer: RelayTransfer,
  spec: RelayStreamSpec,
  options: { startAtNode?: boolean } = {},
): Promise<void> {
  const { plan, signal } = rc;
  let counted = 0;
  const source = async function* () {
    counted = 0;
    for await (const rec of encodeFromFile(rc.seal, plan, spec)) {
      if (signal.aborted) throw signal.reason;
      counted += rec.byteLength;
      rc.progress(Math.min(plan.size, Math.floor((counted / transfer.size) * plan.size)));
      yield rec;
    }
  };
  const r = await completeUpload(rc.client, transfer, {
    source,
    log: rc.log,
    signal,
    deadline: rc.deadline,
    ...(options.startAtNode ? { startAtNode: true } : {}),
  });
  if (r.attempts > 1) rc.log(`relay upload resumed and completed (${r.attempts} attempts)`);
}

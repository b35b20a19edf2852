/** @module Uploads one relay stream to a node transfer: a streamed PUT with backpressure, resumed at the node's offset after a restart. */
import { createHash, type Hash } from "node:crypto";
import { ControlApiError, type ControlClient } from "../../protocol/control-client.ts";

/** Encoded bytes queued for the PUT body above which the producer waits: a few records keep the socket busy. */
const QUEUE_HIGH_WATER = 8 * 1024 * 1024;
/** How long a resume waits for the node to come back before it gives up with ERR_RELAY_UPLOAD. */
export const DEFAULT_RESUME_WINDOW_MS = 60_000;
/** Upload attempts per transfer (the first plus resumes). */
const MAX_ATTEMPTS = 6;

/** A relay upload that could not be completed: the node stayed away, or refused the data. Never a silent partial. */
export class RelayUploadError extends Error {
  readonly code = "ERR_RELAY_UPLOAD";
  constructor(
    message: string,
    /** The node's error code when it answered, e.g. transfer_too_large. */
    readonly nodeCode?: string,
  ) {
    super(message);
    this.name = "RelayUploadError";
  }
}

/**
 * One PUT attempt fed by push(): bytes before `offset` (what the node already holds) are hashed and counted but
 * not sent, so a resumed attempt re-encodes the stream from its start and sends only what the node lost. When
 * the request fails, push() stops waiting and drops bytes; finish() reports how far the node got.
 */
export class UploadAttempt {
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #seen = 0;
  #closed = false;
  #settled = false;
  #pullWaiter: (() => void) | undefined;
  #pushWaiters: Array<() => void> = [];
  readonly #response: Promise<{ received: number } | Error>;
  readonly #hash: Hash;

  constructor(
    client: ControlClient,
    readonly transferId: string,
    readonly offset: number,
    hash: Hash = createHash("sha256"),
  ) {
    this.#hash = hash;
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.#queue.length === 0 && !this.#closed) {
            await new Promise<void>((r) => {
              this.#pullWaiter = r;
            });
          }
          const next = this.#queue.shift();
          if (next === undefined) {
            controller.close();
            return;
          }
          this.#queued -= next.byteLength;
          this.#wakePushers();
          controller.enqueue(next);
        },
        cancel: () => this.#settle(),
      },
      { highWaterMark: 0 },
    );
    this.#response = client.uploadData(transferId, offset, body).then(
      (r) => {
        this.#settle();
        return r;
      },
      (e: unknown) => {
        this.#settle();
        return e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  /** True once the request has ended (answered, failed or cancelled); later bytes are hashed and dropped. */
  get settled(): boolean {
    return this.#settled;
  }

  #settle(): void {
    this.#settled = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#wakePushers();
    this.#pullWaiter?.();
  }

  #wakePushers(): void {
    for (const w of this.#pushWaiters.splice(0)) w();
  }

  /** Adds encoded bytes in stream order; waits while the body queue is full. */
  async push(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    const start = this.#seen;
    this.#seen += bytes.byteLength;
    if (this.#settled || this.#seen <= this.offset) return;
    const send = start >= this.offset ? bytes : bytes.subarray(this.offset - start);
    this.#queue.push(send);
    this.#queued += send.byteLength;
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
    while (this.#queued > QUEUE_HIGH_WATER && !this.#settled) {
      await new Promise<void>((r) => this.#pushWaiters.push(r));
    }
  }

  /** Encoded bytes pushed so far (sent or skipped). */
  get bytesSeen(): number {
    return this.#seen;
  }

  /** Ends the body and waits for the node's answer: its received count, or the error that ended the request. */
  async finish(): Promise<{ received: number } | Error> {
    this.#closed = true;
    const w = this.#pullWaiter;
    this.#pullWaiter = undefined;
    w?.();
    return this.#response;
  }

  /** Hex SHA-256 of every byte pushed; call after the last push. */
  digest(): string {
    return this.#hash.digest("hex");
  }
}

/** What a caller hands resumeUpload: a fresh encoding of the whole relay stream, from its first byte. */
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
 * Drives a transfer to completion: the first attempt (if given, already fed by the caller's single pass over
 * the file) and then resumes from `source` at the node's received offset, until the node holds all `size`
 * bytes; then POST .../complete with the encoded stream's SHA-256, so the node checks what it stored.
 */
export async function completeUpload(
  client: ControlClient,
  transfer: { id: string; size: number },
  first: UploadAttempt | undefined,
  source: EncodedSource,
  o: ResumeOptions = {},
): Promise<{ attempts: number }> {
  let attempts = 0;
  let sha256: string | undefined;
  let result: { received: number } | Error | undefined;
  if (first) {
    attempts++;
    result = await first.finish();
    sha256 = first.digest();
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
    const received = attempts === 0 ? 0 : await nodeReceived(client, transfer.id, o);
    if (attempts > 0) o.log?.(`relay upload interrupted (${errorOf(result!)}); resuming at byte ${received}`);
    if (received === transfer.size && sha256 !== undefined) break;
    attempts++;
    const attempt = new UploadAttempt(client, transfer.id, received);
    for await (const bytes of source()) {
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

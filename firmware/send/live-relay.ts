/** @module LiveRelay: a relay stream fed during the single read of pass 2, then completed (resumed if the node restarted meanwhile). */
import { RelayStreamEncoder } from "../transfer/relay-stream-encoder.ts";
import {
  completeUpload,
  encodeFromFile,
  manifestFor,
  type RelayStreamSpec,
  type RelayTransfer,
  type RelayUploadContext,
  STREAM_OF,
} from "./relay-upload.ts";
import { UploadAttempt } from "./upload-attempt.ts";

/**
 * One relay stream of a split, uploaded as pass 2 reads the file: start() (the MANIFEST), data() for each piece
 * routed to it, end(). Its first PUT only stops taking bytes if the node goes away; complete() then resumes it
 * from a fresh encoding at the node's offset.
 */
export class LiveRelay {
  readonly #rc: RelayUploadContext;
  readonly #encoder: RelayStreamEncoder;
  readonly #attempt: UploadAttempt;

  constructor(
    rc: RelayUploadContext,
    readonly transfer: RelayTransfer,
    readonly spec: RelayStreamSpec,
  ) {
    this.#rc = rc;
    // A fallback's streams are sealed to the callee (HPKE): the prefix carrying enc goes ahead of the MANIFEST.
    this.#encoder = new RelayStreamEncoder(rc.seal.key, rc.seal.sessionId, STREAM_OF[spec.part], {
      storeEnc: rc.seal.storeEnc,
    });
    // Pass 2 (split-pass.ts) paces collections by the pieces it routes here; the attempt would count them again.
    // The encoder's records are fresh buffers of their own: the attempt frees each once fetch has taken it.
    this.#attempt = new UploadAttempt(rc.client, transfer.id, 0, { paced: false, owned: true });
  }

  async start(): Promise<void> {
    await this.#attempt.push(await this.#encoder.manifest(manifestFor(this.#rc.plan, this.spec)));
  }

  async data(bytes: Uint8Array): Promise<void> {
    for (const rec of await this.#encoder.data(bytes)) await this.#attempt.push(rec);
  }

  async end(): Promise<void> {
    for (const rec of await this.#encoder.end()) await this.#attempt.push(rec);
  }

  /** Waits for the first PUT's answer, resumes until the node holds the whole stream, and completes it. */
  async complete(): Promise<{ attempts: number }> {
    const rc = this.#rc;
    return completeUpload(rc.client, this.transfer, {
      first: this.#attempt,
      source: () => encodeFromFile(rc.seal, rc.plan, this.spec),
      log: rc.log,
      signal: rc.signal,
      deadline: rc.deadline,
    });
  }

  /** A failed send: ends the PUT so no request is left open. */
  async abandon(): Promise<void> {
    await this.#attempt.finish();
  }
}

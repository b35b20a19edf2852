/** @module Where a spool keeps a transfer's bytes: the interface the filesystem and S3 backends implement. */
import type { SpoolEntry } from "./spool-entry.ts";

/** One stored piece of a transfer on a backend that stores pieces (S3): its place in the byte stream and its object. */
export interface StoredPart {
  readonly part: number;
  readonly start: number;
  readonly size: number;
  readonly objectKey: string;
}

/** What an upload ended with. */
export interface AppendResult {
  /** Bytes now durable on the backend, which the index records as received. */
  readonly received: number;
  /** Set when the body ended abnormally (client went away) or overran the declared size. */
  readonly error?: unknown;
}

/** One upload to a backend, from the node's durable offset. */
export interface AppendOptions {
  entry: SpoolEntry;
  offset: number;
  body: ReadableStream<Uint8Array> | null;
  /**
   * Records progress once the backend holds it (fsynced file, or an object S3 has answered for): the index's
   * `received` becomes `durable` only now. Throws when the transfer went meanwhile (or another node advanced
   * it), which ends the upload.
   */
  checkpoint(durable: number, part?: StoredPart): Promise<void>;
  /** Bytes handed to the backend but not yet durable, for followers in this process. */
  onWritten?(written: number): void;
}

/** The rows a backend reconciles against at start: only those whose bytes it holds. */
export interface ReconcileIndex {
  held(): Promise<SpoolEntry[]>;
  /** Every transfer id in the index, wherever held: bytes of any of them are never orphans. */
  ids(): Promise<Set<string>>;
  /** Lowers a row's `received` (and clears `complete`) to what the backend really holds. */
  lowerReceived(id: string, received: number): Promise<void>;
}

export interface SpoolBlobs {
  readonly kind: "file" | "s3";
  /** Written to every row this backend creates: a filesystem spool's "file:HOST:DIR", or "s3". */
  readonly location: string;
  append(o: AppendOptions): Promise<AppendResult>;
  /**
   * Bytes [start, end) of what the backend holds for e, at most `end - start` and at least one byte; throws a
   * RangeError with code ERR_SPOOL_SHORT when the backend holds fewer bytes than the index says.
   */
  read(e: SpoolEntry, start: number, end: number): Promise<Uint8Array>;
  /** A complete transfer's bytes from offset, as a response body. */
  body(e: SpoolEntry, offset: number): Blob | ReadableStream<Uint8Array>;
  /**
   * Checks, before a download answers, that the backend holds every byte the index records for e; otherwise
   * lowers e to what is there and throws ShortBlobError. Absent on the filesystem, which reconciles at start.
   */
  verify?(e: SpoolEntry): Promise<void>;
  /** Deletes everything stored for the transfer; absent is fine. */
  remove(id: string): Promise<void>;
  /** After a restart: deletes bytes no row owns, lowers rows to what is really stored. */
  reconcile(index: ReconcileIndex): Promise<{ orphans: number; shortened: number }>;
  /** Free bytes the backend can still take (the node's reserve is kept from it); Infinity when unbounded. */
  freeBytes(): number;
}

/** The error a read ends with when the stored bytes are shorter than the index records. */
export class ShortBlobError extends RangeError {
  readonly code = "ERR_SPOOL_SHORT";
}

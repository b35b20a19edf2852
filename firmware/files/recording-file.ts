/** @module Streams a recording file through the codec's indexer (pass 1 of inspect and split), optionally hashing it. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { InputError } from "../../cli/command.ts";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import { kernelReadBuffer } from "../../codec/kernel-memory.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";
import { releaseBuffer } from "../../runtime/release-buffer.ts";

/**
 * Bytes per read. Large enough that per-chunk overhead vanishes next to parsing, small enough that memory stays
 * flat.
 */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Bytes per read where the chunks go on to the network (a send's second pass): a 1 MiB DATA frame or relay
 * record at a time, so the two reused read buffers hold 2 MiB rather than 8 on a box with little RAM.
 */
export const SEND_CHUNK_BYTES = 1024 * 1024;

/** Opens a file for reading, turning a missing or unreadable path into an InputError (exit 1). */
export async function openInput(path: string): Promise<FileHandle> {
  // Loaded here rather than at the top: inspect opens with openInputSync and never needs node:fs/promises
  // (0.3 ms of every start).
  const { open } = await import("node:fs/promises");
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw unreadable(path, err);
  }
  try {
    requireRegularFile(path, handle.fd); // fstat: one thread-pool round trip fewer than handle.stat()
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** What indexFile needs of an open file: its descriptor for blocking reads, and positioned reads. */
export interface InputFile {
  readonly fd: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/**
 * openInput for one-shot commands that read with blocking calls anyway (inspect): the same checks and errors,
 * without the FileHandle machinery and its thread-pool round trip (~1 ms of a 50 ms inspect). Close it with
 * `using`.
 */
export function openInputSync(path: string): InputFile & Disposable {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw unreadable(path, err);
  }
  try {
    requireRegularFile(path, fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return {
    fd,
    read: async (buffer, offset, length, position) => ({
      bytesRead: readSync(fd, buffer, offset, length, position),
    }),
    [Symbol.dispose]: () => closeSync(fd),
  };
}

/** Throws ERR_FILE_TYPE unless `fd` is a regular file (ERR_FILE_READ when it cannot be asked). */
function requireRegularFile(path: string, fd: number): void {
  let regular: boolean;
  try {
    regular = fstatSync(fd).isFile();
  } catch (err) {
    throw unreadable(path, err);
  }
  if (!regular) throw new InputError(`Cannot read ${path}: not a regular file`, "ERR_FILE_TYPE");
}

function unreadable(path: string, err: unknown): InputError {
  return new InputError(`Cannot read ${path}: ${(err as Error).message}`, "ERR_FILE_READ");
}

/**
 * Reads the whole file from the start in chunks of up to `chunkBytes`. The next read is already in flight (on
 * the runtime's I/O thread) while the caller works on the current chunk, so reading and indexing overlap.
 *
 * With `reuse`, two buffers take turns: a chunk is overwritten once the caller asks for the chunk after next,
 * so the caller must be done with each chunk (and every view into it) when it asks for another, and with the
 * last one when it stops (the loop ends or breaks): both buffers are released then (runtime/release-buffer.ts).
 * Fresh buffers per read cost as much as the whole ES index (page faults and zeroing of 4 MiB at a time,
 * docs/benchmarks.md), so inspect and split reuse; RecordingIndexer keeps no view of a pushed chunk
 * (test/cli/indexer-keeps-no-views.test.ts holds it to that). Without `reuse` every chunk is fresh.
 */
export async function* readChunks(
  handle: InputFile,
  options: { chunkBytes?: number; reuse?: boolean; from?: number } = {},
): AsyncGenerator<Uint8Array> {
  const chunkBytes = options.chunkBytes ?? READ_CHUNK_BYTES;
  const pool = options.reuse ? [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)] : undefined;
  let turn = 0;
  // `from`: a resumed send reads only what the receiver does not hold.
  let position = options.from ?? 0;
  const readAt = async (at: number) => {
    const buffer = pool ? pool[turn++ & 1]! : new Uint8Array(chunkBytes);
    const { bytesRead } = await handle.read(buffer, 0, chunkBytes, at);
    return bytesRead === chunkBytes ? buffer : buffer.subarray(0, bytesRead);
  };
  let next = readAt(position);
  try {
    for (;;) {
      const chunk = await next;
      if (chunk.length === 0) return;
      position += chunk.length;
      next = readAt(position);
      yield chunk;
    }
  } finally {
    // A caller that stops early must not close the handle under a read still in flight.
    await next.catch(() => undefined);
    // The caller is done with the last chunk once it stops asking: the two buffers' memory goes back now, for
    // the next pass to reuse, instead of at a later collection (pass 1's 8 MiB were still resident when pass 2
    // started, under its start-up peak: docs/benchmarks.md, "Transfer memory: what the anonymous peak is made
    // of").
    if (pool) for (const b of pool) releaseBuffer(b);
  }
}

/**
 * Reads the whole file from the start with blocking reads into one reused buffer: each chunk is overwritten by
 * the next, so the caller must be done with it (and every view into it) before asking for the next. For
 * one-shot commands with no event loop to keep responsive (inspect). On the bench machine's two cores this is
 * faster than readChunks's read-ahead on the runtime's I/O thread, which runs the kernel's page-cache copy
 * beside the indexer and slows both (docs/benchmarks.md, Parse).
 *
 * `buffer` is the buffer to read into (its whole length per read), by default a fresh one of `chunkBytes`:
 * indexFile passes the start-code kernel's read area, so the bytes are searched where they were read.
 */
export function* readChunksBlocking(
  handle: InputFile,
  options: { chunkBytes?: number; buffer?: Uint8Array } = {},
): Generator<Uint8Array> {
  const buffer = options.buffer ?? new Uint8Array(options.chunkBytes ?? READ_CHUNK_BYTES);
  const chunkBytes = buffer.length;
  for (let position = 0; ; ) {
    const n = readSync(handle.fd, buffer, 0, chunkBytes, position);
    if (n === 0) return;
    position += n;
    yield n === chunkBytes ? buffer : buffer.subarray(0, n);
  }
}

/**
 * readChunksBlocking into the start-code kernel's read area, so the codec searches each chunk where it was
 * read (a fresh buffer where the runtime has no kernel). The area is one per thread: the caller pushes each
 * chunk to the indexer before asking for the next, and nothing else on the thread reads into it meanwhile.
 */
export function readChunksIntoKernel(handle: InputFile): Generator<Uint8Array> {
  const buffer = kernelReadBuffer();
  return readChunksBlocking(handle, buffer ? { buffer } : {});
}

/** Reads exactly [offset, offset + length) or fewer bytes at the end of the file. */
export async function readRange(handle: InputFile, offset: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, got, length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
}

/** What pass 1 found: the index, the length read and, when asked for, the SHA-256 of every byte. */
export interface IndexedFile {
  index: RecordingIndex;
  length: number;
  sha256: Uint8Array | undefined;
}

/**
 * Pass 1: pushes the file through RecordingIndexer in order, then serves the ranges it still asks for
 * (an MP4 whose moov comes after its media) until it has all it needs. `indexer` lets a caller bring one
 * with a video observer (PatternPlanner.withIndexer) so pattern planning rides on this pass. `blocking`
 * reads with readChunksIntoKernel (one-shot commands only: it holds the event loop for the whole pass).
 * `pace` is told each chunk's length after the chunk is indexed and hashed.
 */
export async function indexFile(
  handle: InputFile,
  options: {
    hash: boolean;
    indexer?: RecordingIndexer;
    blocking?: boolean;
    /** Told every chunk's length as it is read (a send's HeapPacer: pass 1 collects as it goes). */
    pace?: { moved(bytes: number): void };
  },
): Promise<IndexedFile> {
  const indexer = options.indexer ?? new RecordingIndexer();
  // Bun.CryptoHasher: the same SHA-256 as node:crypto without loading node:crypto into `inspect` (2 ms a start).
  const hash = options.hash ? new Bun.CryptoHasher("sha256") : undefined;
  let length = 0;
  const take = (chunk: Uint8Array) => {
    indexer.push(chunk);
    hash?.update(chunk);
    length += chunk.length;
    options.pace?.moved(chunk.length);
  };
  if (options.blocking) for (const chunk of readChunksIntoKernel(handle)) take(chunk);
  else for await (const chunk of readChunks(handle, { reuse: true })) take(chunk);
  // Each round serves what the indexer asked for; a well-behaved indexer asks for a bounded number of rounds
  // (moov, then nothing), the cap only stops a looping one from hanging the command.
  for (let round = 0, needed = indexer.finish(); needed.length > 0; round++, needed = indexer.finish()) {
    if (round >= 8)
      throw new InputError("Cannot index: the indexer keeps asking for more ranges", "ERR_INDEX_LOOP");
    for (const r of needed) indexer.supply(r.offset, await readRange(handle, r.offset, r.length));
  }
  return { index: indexer.result(), length, sha256: hash?.digest() };
}

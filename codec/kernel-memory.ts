/** @module The one WebAssembly memory the codec's kernels share on a thread, and its fixed layout. */

/** WebAssembly page size (WebAssembly Core Specification 2.0, 2.5.4 "Memories"). */
const WASM_PAGE_BYTES = 65536;

/**
 * Positions searched per start-code kernel call, and packets' bytes walked per TS kernel call. Bounds the
 * result areas and the copy areas; 256 KiB windows stay in a core's L2 cache between the copy and the search.
 */
export const KERNEL_WINDOW_BYTES = 256 * 1024;

/**
 * Bytes of the read area: a buffer in the kernels' memory that a reader can fill (kernelReadBuffer()), so
 * chunks read into it are searched and demuxed where they lie instead of being copied in.
 */
export const KERNEL_READ_AREA_BYTES = 1024 * 1024;

/** A start-code prefix's code byte is 3 bytes after its first zero: the lookahead a window needs. */
export const START_CODE_LOOKAHEAD = 3;

/**
 * Bytes of the video block the TS kernel writes demuxed elementary-stream bytes into, handed to the indexer
 * when full or at the end of a push: its start-code search then runs on it in place.
 */
export const VIDEO_BLOCK_BYTES = 256 * 1024;

/**
 * What the kernels may touch past an area's end: the TS kernel copies payloads 16 bytes at a time (reading and
 * writing up to 15 bytes beyond them), so every area it reads or writes is followed by at least this much.
 */
const SLACK = 16;

/** A Transport Stream packet is at least 188 bytes (ISO/IEC 13818-1 2.4.3.2): at most one run record per packet. */
const MIN_PACKET_BYTES = 188;
/** PIDs are 13 bits (ISO/IEC 13818-1 2.4.3.3): the TS kernel's per-PID tables have this many entries. */
export const PID_COUNT = 0x2000;
/**
 * PAT/PMT PIDs whose last packet the TS kernel may compare a repeat with, and the bytes kept of each: the
 * 188-byte packet, rounded up to whole 16-byte vectors.
 */
export const TABLE_SLOTS = 16;
export const TABLE_SLOT_BYTES = 192;
/** A demuxer's PID state: counters, kinds, table slots (TsPacketKernel.pidState). */
export const PID_STATE_BYTES = 2 * PID_COUNT + TABLE_SLOTS * TABLE_SLOT_BYTES;

const align16 = (n: number): number => (n + 15) & ~15;

/**
 * Where everything lies. Fixed at instantiation and never grown, so views handed out (kernelReadBuffer(), a
 * video block) stay valid for the life of the thread.
 *
 * [read area][start-code copy area][start-code results][picture-head records][TS copy area][video block]
 * [TS run records][TS PID state]
 */
export const KERNEL_LAYOUT = (() => {
  const readArea = 0;
  const copyArea = readArea + KERNEL_READ_AREA_BYTES;
  const resultsBytes = 4 * (Math.floor(KERNEL_WINDOW_BYTES / 3) + 2);
  const results = copyArea + align16(KERNEL_WINDOW_BYTES + START_CODE_LOOKAHEAD);
  /** heads() writes two i32 per record and at most one record per result. */
  const records = results + resultsBytes;
  const recordsBytes = 2 * resultsBytes;
  const tsCopyArea = align16(records + recordsBytes);
  const videoBlock = tsCopyArea + KERNEL_WINDOW_BYTES + SLACK;
  const tsRuns = videoBlock + VIDEO_BLOCK_BYTES + SLACK;
  /** Four i32 per run record, at most one record per packet of a window. */
  const tsRunsBytes = 16 * (Math.floor(KERNEL_WINDOW_BYTES / MIN_PACKET_BYTES) + 1);
  /** continuity_counter per PID (int8, -1 for none yet), the walk's kind per PID (uint8), the table slots. */
  const pidState = align16(tsRuns + tsRunsBytes);
  const pidStateBytes = PID_STATE_BYTES;
  const end = pidState + pidStateBytes + SLACK;
  return {
    readArea,
    copyArea,
    results,
    resultsBytes,
    records,
    recordsBytes,
    tsCopyArea,
    videoBlock,
    tsRuns,
    tsRunsBytes,
    pidState,
    pidStateBytes,
    pages: Math.ceil(end / WASM_PAGE_BYTES),
  } as const;
})();

let memory: WebAssembly.Memory | null | undefined;

/**
 * This thread's kernel memory, made on first use with its final size (a memory that grows detaches every
 * view of it); null where the runtime has no WebAssembly.
 */
export function kernelMemory(): WebAssembly.Memory | null {
  if (memory !== undefined) return memory;
  try {
    memory = new WebAssembly.Memory({ initial: KERNEL_LAYOUT.pages, maximum: KERNEL_LAYOUT.pages });
  } catch {
    memory = null;
  }
  return memory;
}

/**
 * A buffer of KERNEL_READ_AREA_BYTES in the kernels' memory for reading a file into: chunks that are views of it
 * reach the start-code search and the TS walk without a copy. One per thread, shared by every caller, so only a
 * reader that pushes each chunk before reading the next may use it; null without WebAssembly (read into any
 * buffer then).
 */
export function kernelReadBuffer(): Uint8Array | null {
  const m = kernelMemory();
  return m && new Uint8Array(m.buffer, KERNEL_LAYOUT.readArea, KERNEL_READ_AREA_BYTES);
}

/**
 * Instantiates a kernel module (its bytes in base64) over this thread's kernel memory, which it imports as
 * `kernel.memory`; null where the runtime cannot (no WebAssembly, or no 128-bit SIMD).
 */
export function instantiateKernel<Exports>(
  base64: string,
): { exports: Exports; memory: WebAssembly.Memory } | null {
  const memory = kernelMemory();
  if (memory === null) return null;
  try {
    const module = new WebAssembly.Module(Buffer.from(base64, "base64"));
    const exports = new WebAssembly.Instance(module, { kernel: { memory } }).exports as unknown as Exports;
    return { exports, memory };
  } catch {
    return null;
  }
}

/**
 * The kernel-memory address of `chunk[start]` for a kernel that reads `chunk[start, end)`: where the bytes lie
 * when the chunk is a view of `memory` (read into the read area, or a video block), else `copyArea` after
 * copying them there.
 */
export function kernelAddress(
  memory: Uint8Array,
  chunk: Uint8Array,
  start: number,
  end: number,
  copyArea: number,
): number {
  if (chunk.buffer === memory.buffer) return chunk.byteOffset + start;
  memory.set(chunk.subarray(start, end), copyArea);
  return copyArea;
}

/** @module The re-synchronising attacker: recovers the clear tail of each partly encrypted MPEG-2 slice and rebuilds it as a decodable slice. */
import {
  EXTENSION_START_CODE,
  isSliceStartCode,
  PICTURE_CODING_EXTENSION_ID,
  PICTURE_START_CODE,
  SEQUENCE_HEADER_CODE,
} from "../../../codec/mpeg-video/start-codes.ts";
import { BitCursor, type PictureSyntax, parseMacroblock } from "./mpeg2-macroblock.ts";
import { ADDRESS_INCREMENT, codeOf, MACROBLOCK_ESCAPE } from "./mpeg2-vlc.ts";

/** picture_structure "frame picture" (ISO/IEC 13818-2 Table 6-14); picture_coding_type P and B (Table 6-12). */
const FRAME_PICTURE = 3;
const P_TYPE = 2;
const B_TYPE = 3;
/** Luma samples across a macroblock (6.1.1.8). */
const MACROBLOCK = 16;
/** Address increments above this take macroblock_escape codes (Table B-1). */
const MAX_INCREMENT = 33;

/** What the attacker made of a stream. */
export interface ResyncResult {
  /** The rebuilt elementary stream: clear slices as they were, attacked slices rebuilt or dropped. */
  view: Uint8Array;
  /** P/B slices holding encrypted bytes. */
  attackedSlices: number;
  /** Of those, slices with a tail that parsed exactly to the slice's end at a plausible column. */
  recoveredSlices: number;
  /** Macroblocks in the recovered tails. */
  recoveredMacroblocks: number;
}

export interface ResyncOptions {
  /** quantiser_scale_code written into rebuilt slices (the true one sits in the encrypted slice header). */
  quantiser?: number;
}

/** Guess when none is given: mid-range of the codes the bench's 2 Mbit/s recordings use. */
const DEFAULT_QUANTISER = 4;

/** The start code prefix, 00 00 01 (ISO/IEC 13818-2 5.2.3). */
const START = Buffer.from([0, 0, 1]);

/** Offsets of the start codes whose four bytes are all clear: the only ones the attacker trusts. */
function clearStartCodes(bytes: Uint8Array, encrypted: Uint8Array): number[] {
  const out: number[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = buf.indexOf(START, 0); at >= 0 && at + 3 < bytes.length; at = buf.indexOf(START, at + 1)) {
    if (!encrypted.subarray(at, at + 4).some((flag) => flag !== 0)) out.push(at);
  }
  return out;
}

/** The macroblock-syntax fields of a picture coding extension whose payload starts at `at` (at the id nibble). */
export function pictureCodingExtension(bytes: Uint8Array, at: number, codingType: number): PictureSyntax {
  const c = new BitCursor(bytes);
  c.pos = at * 8 + 4;
  const fCode = [c.read(4), c.read(4), c.read(4), c.read(4)] as const;
  c.pos += 2; // intra_dc_precision
  const structure = c.read(2);
  c.pos += 1; // top_field_first
  const framePredFrameDct = c.read(1) === 1;
  const concealmentMotionVectors = c.read(1) === 1;
  c.pos += 1; // q_scale_type
  const intraVlcFormat = c.read(1) === 1;
  return {
    codingType,
    fCode,
    frame: structure === FRAME_PICTURE,
    framePredFrameDct,
    concealmentMotionVectors,
    intraVlcFormat,
  };
}

/** Appends bits to a growing byte array. */
class BitWriter {
  bytes: number[] = [];
  #acc = 0;
  #n = 0;

  write(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((value >>> i) & 1);
      if (++this.#n === 8) {
        this.bytes.push(this.#acc);
        this.#acc = 0;
        this.#n = 0;
      }
    }
  }

  /** Zero bits to the next byte boundary (next_start_code(), 6.2.1). */
  align(): void {
    if (this.#n > 0) this.write(0, 8 - this.#n);
  }
}

/** The bit just past the last 1 bit of `bytes`: from there to the end everything is zero stuffing. */
function payloadEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i]!;
    // The lowest set bit of the last non-zero byte: its position from the byte's MSB is 7 - trailing zeros.
    if (b !== 0) return i * 8 + 8 - (31 - Math.clz32(b & -b));
  }
  return 0;
}

/** A tail of a slice that parses exactly to the slice's end. */
export interface Tail {
  /** Bit position of its first macroblock and of the bits after that macroblock's address increment. */
  start: number;
  afterIncrement: number;
  /** Where its last macroblock ends: only zero stuffing follows. */
  end: number;
  column: number;
  macroblocks: number;
}

/**
 * The earliest bit position in `data` at or after `from` where a run of macroblocks parses exactly to the
 * slice's end (only zero bits after the last, within the slice) with the first macroblock at a column >= 0
 * (the last sits at the row's end: it is never skipped, 6.3.16), or undefined. Parses from different offsets
 * merge once they hit the same macroblock start, so each bit position is parsed at most once (memoised).
 */
export function findTail(
  data: Uint8Array,
  from: number,
  row: { picture: PictureSyntax; mbWidth: number },
): Tail | undefined {
  const { picture: p, mbWidth } = row;
  const payload = payloadEnd(data);
  const total = data.length * 8;
  if (from >= payload) return undefined;
  // 0 unknown, 1 reaches the end, 2 does not; next macroblock start and increment of each parsed start.
  const status = new Uint8Array(total + 1);
  const next = new Int32Array(total + 1);
  const incr = new Int32Array(total + 1);
  const after = new Int32Array(total + 1);
  status.fill(1, payload);
  const c = new BitCursor(data);
  const chain: number[] = [];
  for (let b = from; b < payload; b++) {
    chain.length = 0;
    let pos = b;
    while (status[pos] === 0) {
      c.pos = pos;
      const mb = parseMacroblock(c, p);
      if (mb.increment < 0 || c.pos > total) {
        status[pos] = 2;
        break;
      }
      next[pos] = c.pos;
      incr[pos] = mb.increment;
      after[pos] = mb.afterIncrement;
      chain.push(pos);
      pos = c.pos;
    }
    const verdict = status[pos]!;
    for (const q of chain) status[q] = verdict;
    if (verdict !== 1) continue;
    let column = mbWidth - 1;
    let macroblocks = 1;
    let q = next[b]!;
    for (; q < payload; q = next[q]!) {
      column -= incr[q]!;
      macroblocks++;
    }
    if (column >= 0) return { start: b, afterIncrement: after[b]!, end: q, column, macroblocks };
  }
  return undefined;
}

/** The rebuilt slice: fresh header with the guessed quantiser, the first macroblock's true column, then the tail's bits. */
function rebuildSlice(slice: { code: number; data: Uint8Array }, tail: Tail, quantiser: number): Uint8Array {
  const { code, data } = slice;
  const w = new BitWriter();
  w.write(0x000001, 24);
  w.write(code, 8);
  w.write(quantiser, 5);
  w.write(0, 1); // extra_bit_slice
  let increment = tail.column + 1;
  const [escapeCode, escapeLength] = codeOf(ADDRESS_INCREMENT, MACROBLOCK_ESCAPE);
  while (increment > MAX_INCREMENT) {
    w.write(escapeCode, escapeLength);
    increment -= MAX_INCREMENT;
  }
  const [bits, length] = codeOf(ADDRESS_INCREMENT, increment);
  w.write(bits, length);
  const c = new BitCursor(data);
  c.pos = tail.afterIncrement;
  while (c.pos < tail.end) {
    const n = Math.min(16, tail.end - c.pos);
    w.write(c.read(n), n);
  }
  w.align();
  return Uint8Array.from(w.bytes);
}

/**
 * Attacks an MPEG-2 elementary stream of which the bytes flagged in `encrypted` (one flag byte per stream
 * byte) are ciphertext. Everything an eavesdropper sees in the clear is used: sequence and picture headers,
 * picture coding extensions, the slice start codes (so each slice's row and exact end), and the pattern
 * header's range table (so which bytes are ciphertext: the scheme is public). For every P/B slice holding
 * ciphertext, it tries each bit offset after the slice's last encrypted byte, keeps the earliest whose
 * macroblocks parse exactly to the slice's end, places them by summing address increments back from the
 * row's last column, and writes them out as a fresh slice. Slices it cannot recover are dropped (the decoder
 * conceals them); clear slices and all other units pass unchanged.
 */
export function resyncAttack(
  bytes: Uint8Array,
  encrypted: Uint8Array,
  options: ResyncOptions = {},
): ResyncResult {
  const quantiser = options.quantiser ?? DEFAULT_QUANTISER;
  const starts = clearStartCodes(bytes, encrypted);
  const out: Uint8Array[] = [];
  if (starts.length === 0 || starts[0]! > 0) out.push(bytes.subarray(0, starts[0] ?? bytes.length));
  let mbWidth = 0;
  let codingType = 0;
  let picture: PictureSyntax | undefined;
  let attackedSlices = 0;
  let recoveredSlices = 0;
  let recoveredMacroblocks = 0;
  for (let k = 0; k < starts.length; k++) {
    const at = starts[k]!;
    const end = starts[k + 1] ?? bytes.length;
    const code = bytes[at + 3]!;
    const unit = bytes.subarray(at, end);
    if (code === SEQUENCE_HEADER_CODE) {
      mbWidth = Math.ceil((((bytes[at + 4]! << 4) | (bytes[at + 5]! >> 4)) >>> 0) / MACROBLOCK);
    } else if (code === PICTURE_START_CODE) {
      codingType = (bytes[at + 5]! >> 3) & 7;
      picture = undefined;
    } else if (code === EXTENSION_START_CODE && bytes[at + 4]! >> 4 === PICTURE_CODING_EXTENSION_ID) {
      picture = pictureCodingExtension(bytes, at + 4, codingType);
    }
    const isSlice = isSliceStartCode(code);
    const isPB = codingType === P_TYPE || codingType === B_TYPE;
    let lastEncrypted = -1;
    if (isSlice)
      for (let i = end - 1; i >= at + 4 && lastEncrypted < 0; i--) if (encrypted[i]) lastEncrypted = i;
    if (!isSlice || !isPB || lastEncrypted < 0 || picture === undefined) {
      out.push(unit);
      continue;
    }
    attackedSlices++;
    // The next slice on the same row would leave this one's last column unknown; the bench's encoder writes a
    // slice per row, as broadcast encoders do.
    const nextCode = bytes[end + 3];
    if (nextCode === code) continue;
    const data = bytes.subarray(at + 4, end);
    const tail = findTail(data, (lastEncrypted + 1 - (at + 4)) * 8, { picture, mbWidth });
    if (tail === undefined) continue;
    recoveredSlices++;
    recoveredMacroblocks += tail.macroblocks;
    out.push(rebuildSlice({ code, data }, tail, quantiser));
  }
  return { view: Buffer.concat(out), attackedSlices, recoveredSlices, recoveredMacroblocks };
}

/** For tests: parses a clear slice (data after its start code) from its header to its end; false when it does not end exactly. */
export function parsesToEnd(data: Uint8Array, p: PictureSyntax): boolean {
  const c = new BitCursor(data);
  c.pos = 5; // quantiser_scale_code
  if (c.peek(1) === 1) {
    c.pos += 9; // intra_slice_flag, intra_slice, reserved_bits
    while (c.read(1) === 1) c.pos += 8; // extra_information_slice
  } else {
    c.pos += 1;
  }
  const payload = payloadEnd(data);
  while (c.pos < payload) {
    if (parseMacroblock(c, p).increment < 0) return false;
  }
  return c.pos <= data.length * 8;
}

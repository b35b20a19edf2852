/** @module Parses one MPEG-2 macroblock (ISO/IEC 13818-2 6.2.5) for syntax only: where it ends, or that no macroblock starts here. */
import {
  ADDRESS_INCREMENT,
  B_MACROBLOCK_TYPE,
  CODED_BLOCK_PATTERN,
  DC_SIZE_CHROMA,
  DC_SIZE_LUMA,
  DCT_END_OF_BLOCK,
  DCT_ESCAPE,
  DCT_TABLE_ZERO,
  DCT_TABLE_ZERO_FIRST,
  DMVECTOR,
  MACROBLOCK_ESCAPE,
  MB_BACKWARD,
  MB_FORWARD,
  MB_INTRA,
  MB_PATTERN,
  MB_QUANT,
  MOTION_CODE,
  P_MACROBLOCK_TYPE,
  type VlcTable,
} from "./mpeg2-vlc.ts";

/** What the picture header and picture coding extension say that the macroblock syntax depends on. */
export interface PictureSyntax {
  /** picture_coding_type: 2 P, 3 B (Table 6-12). */
  codingType: number;
  /** f_code[s][t]: forward horizontal, forward vertical, backward horizontal, backward vertical. */
  fCode: readonly [number, number, number, number];
  /** picture_structure 3 = frame picture (Table 6-14). */
  frame: boolean;
  framePredFrameDct: boolean;
  concealmentMotionVectors: boolean;
  intraVlcFormat: boolean;
}

/** Luma blocks of a 4:2:0 macroblock; the two after them are chroma (6.1.1.8). */
const LUMA_BLOCKS = 4;
const BLOCKS_420 = 6;
/** Coefficients per 8x8 block: a run past the last one is a wrong parse. */
const BLOCK_COEFFICIENTS = 64;
/** Escape: 6-bit run, 12-bit signed level (MPEG-2, 7.2.2.3); levels 0 and -2048 are forbidden. */
const ESCAPE_RUN_BITS = 6;
const ESCAPE_LEVEL_BITS = 12;
const FORBIDDEN_LEVEL = 0x800;
/** frame_motion_type / field_motion_type values (Tables 6-17, 6-18). */
const MOTION_FIELD = 1;
const MOTION_DUAL_PRIME = 3;

/** A forward-only bit cursor over bytes; reads past `bytes` see zeros (the caller bounds the parse). */
export class BitCursor {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The next `n` bits (1..24) without consuming them. */
  peek(n: number): number {
    const b = this.bytes;
    const i = this.pos >>> 3;
    const word = ((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0);
    return ((word << (this.pos & 7)) >>> (32 - n)) & ((1 << n) - 1);
  }

  read(n: number): number {
    const v = this.peek(n);
    this.pos += n;
    return v;
  }

  /** Decodes one VLC; -1 (nothing consumed) when no code starts here. */
  vlc(t: VlcTable): number {
    const e = t.entries[this.peek(t.maxBits)]!;
    if (e < 0) return -1;
    this.pos += e & 31;
    return e >> 5;
  }
}

/** What one macroblock's parse found: its address increment, or -1 when the bits are not a macroblock. */
export interface MacroblockParse {
  increment: number;
  /** Bit position right after the increment (and its escapes): where the rest of the macroblock begins. */
  afterIncrement: number;
}

/** One motion_vector(r, s) (6.2.5.2.1): horizontal then vertical, each with its f_code's residual. */
function motionVector(c: BitCursor, fCodes: readonly [number, number], dmv: boolean): boolean {
  for (const f of fCodes) {
    const code = c.vlc(MOTION_CODE);
    if (code < 0) return false;
    if (code !== 0) {
      c.pos += 1; // sign
      if (f !== 1) c.pos += f - 1; // motion_residual
    }
    if (dmv && c.vlc(DMVECTOR) < 0) return false;
  }
  return true;
}

/** motion_vectors(s) (6.2.5.2) for direction `s` (0 forward, 1 backward) under `motionType`. */
function motionVectors(c: BitCursor, p: PictureSyntax, mv: { s: 0 | 1; motionType: number }): boolean {
  const { s, motionType } = mv;
  const fCodes = [p.fCode[2 * s]!, p.fCode[2 * s + 1]!] as const;
  // Table 6-17 / 6-18: how many vectors, field or frame format, dual prime.
  const dmv = motionType === MOTION_DUAL_PRIME;
  const count = p.frame ? (motionType === MOTION_FIELD ? 2 : 1) : motionType === 2 ? 2 : 1;
  const fieldFormat = p.frame ? motionType !== 2 : true;
  for (let r = 0; r < count; r++) {
    if (count === 2 || (fieldFormat && !dmv)) c.pos += 1; // motion_vertical_field_select
    if (!motionVector(c, fCodes, dmv)) return false;
  }
  return true;
}

/** block(i) (6.2.6): an intra block's DC size and differential, then coefficients to end_of_block. */
function block(c: BitCursor, p: PictureSyntax, kind: { intra: boolean; chroma: boolean }): boolean {
  const { intra, chroma } = kind;
  let i = 0;
  if (intra) {
    const size = c.vlc(chroma ? DC_SIZE_CHROMA : DC_SIZE_LUMA);
    if (size < 0) return false;
    c.pos += size;
    // Table B-15 (intra_vlc_format 1) is not modelled: the bench's recordings never set it.
    if (p.intraVlcFormat) return false;
  }
  let first = !intra;
  for (;;) {
    const v = c.vlc(first ? DCT_TABLE_ZERO_FIRST : DCT_TABLE_ZERO);
    if (v < 0) return false;
    if (v === DCT_END_OF_BLOCK) return true;
    let run: number;
    if (v === DCT_ESCAPE) {
      run = c.read(ESCAPE_RUN_BITS);
      const level = c.read(ESCAPE_LEVEL_BITS);
      if (level === 0 || level === FORBIDDEN_LEVEL) return false;
    } else {
      run = v >> 12;
      c.pos += 1; // sign
    }
    i += first ? run : run + 1;
    if (i >= BLOCK_COEFFICIENTS) return false;
    first = false;
  }
}

/**
 * Parses the macroblock at `c.pos` of a P or B picture and leaves `c.pos` after it. Returns its
 * macroblock_address_increment, or -1 when a forbidden code, an impossible value (quantiser_scale_code 0,
 * cbp 0, a coefficient past 63) or a bad marker says no macroblock starts here.
 */
export function parseMacroblock(c: BitCursor, p: PictureSyntax): MacroblockParse {
  const bad = { increment: -1, afterIncrement: -1 };
  let increment = 0;
  for (;;) {
    const v = c.vlc(ADDRESS_INCREMENT);
    if (v < 0) return bad;
    if (v !== MACROBLOCK_ESCAPE) {
      increment += v;
      break;
    }
    increment += 33;
  }
  const afterIncrement = c.pos;
  const type = c.vlc(p.codingType === 2 ? P_MACROBLOCK_TYPE : B_MACROBLOCK_TYPE);
  if (type < 0) return bad;
  const intra = (type & MB_INTRA) !== 0;
  // Not coded: frame motion in a frame picture, field motion in a field picture (7.6.3.1).
  let motionType = p.frame ? 2 : MOTION_FIELD;
  if ((type & (MB_FORWARD | MB_BACKWARD)) !== 0 && !(p.frame && p.framePredFrameDct)) {
    motionType = c.read(2);
    if (motionType === 0) return bad; // reserved
  }
  if (p.frame && !p.framePredFrameDct && (intra || (type & MB_PATTERN) !== 0)) c.pos += 1; // dct_type
  if ((type & MB_QUANT) !== 0 && c.read(5) === 0) return bad;
  if ((type & MB_FORWARD) !== 0 || (intra && p.concealmentMotionVectors)) {
    if (!motionVectors(c, p, { s: 0, motionType })) return bad;
  }
  if ((type & MB_BACKWARD) !== 0 && !motionVectors(c, p, { s: 1, motionType })) return bad;
  if (intra && p.concealmentMotionVectors && c.read(1) !== 1) return bad;
  let cbp = intra ? 0b111111 : 0;
  if ((type & MB_PATTERN) !== 0) {
    cbp = c.vlc(CODED_BLOCK_PATTERN);
    if (cbp <= 0) return bad;
  }
  for (let b = 0; b < BLOCKS_420; b++) {
    if ((cbp & (1 << (BLOCKS_420 - 1 - b))) === 0) continue;
    if (!block(c, p, { intra, chroma: b >= LUMA_BLOCKS })) return bad;
  }
  return { increment, afterIncrement };
}

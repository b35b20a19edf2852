/** @module What an eavesdropper reads from a pattern-mode direct part's bytes alone: the scheme, the body, and the public range table, for header versions 1 and 5. */

import {
  decodePatternHeader,
  PATTERN_DIGEST_BYTES,
  PATTERN_VERSION_SEGMENTED,
  peekPatternHeaderLength,
} from "../../codec/pattern/pattern-header.ts";
import { decodePatternHeaderV5 } from "../../codec/pattern/pattern-header-v5.ts";
import type { PatternScheme } from "../../codec/pattern/pattern-scheme.ts";
import { decodePatternSegment, peekPatternSegmentLength } from "../../codec/pattern/pattern-segment.ts";
import { concat } from "../../codec/split/split-bytes.ts";

/** Byte 8 of a pattern header: its version (docs/security.md, "Wire format: the pattern header"). */
const VERSION_AT = 8;

export interface PatternWire {
  scheme: PatternScheme;
  /** The direct body as it crossed the wire: ciphertext in the ranges, the segments (version 5) taken out. */
  body: Uint8Array;
  /** Calls fn for every range (body offsets), in order, from the header's table or from the segments. */
  forEachRange(fn: (offset: number, length: number) => void): void;
}

/**
 * Reads `wire` (a pattern header, then the body: whole for version 1, or segment, stretch, segment, … for version
 * 5) as anyone on the path can: the header and segments are public and checked, only the key is secret. Other
 * versions carry ES coordinates (a PS or TS, H.264), which the MPEG-2 ES views here do not read.
 */
export function readPatternWire(wire: Uint8Array): PatternWire {
  const len = peekPatternHeaderLength(wire);
  if (len === undefined) throw new RangeError("Cannot read the pattern part: its header is cut short");
  const headerBytes = wire.subarray(0, len);
  if (headerBytes[VERSION_AT] !== PATTERN_VERSION_SEGMENTED) {
    const header = decodePatternHeader(headerBytes);
    return {
      scheme: header.scheme,
      body: wire.subarray(len),
      forEachRange: (fn) => header.ranges.forEach(fn),
    };
  }
  const header = decodePatternHeaderV5(headerBytes);
  const headerDigest = headerBytes.subarray(len - PATTERN_DIGEST_BYTES);
  const stretches: Uint8Array[] = [];
  const tables: { forEach(fn: (offset: number, length: number) => void): void }[] = [];
  let at = len;
  let bodyStart = 0;
  for (let number = 0; bodyStart < header.directBodyLength || number === 0; number++) {
    const length = peekPatternSegmentLength(wire.subarray(at), number);
    if (length === undefined || at + length > wire.length)
      throw new RangeError(`Cannot read the pattern part: segment ${number} is cut short`);
    const seg = decodePatternSegment(wire.subarray(at, at + length), {
      number,
      bodyStart,
      bodyLength: header.directBodyLength,
      headerDigest,
    });
    at += length;
    const stretch = seg.bodyEnd - bodyStart;
    if (at + stretch > wire.length)
      throw new RangeError(`Cannot read the pattern part: the body after segment ${number} is cut short`);
    stretches.push(wire.subarray(at, at + stretch));
    tables.push(seg.ranges);
    at += stretch;
    bodyStart = seg.bodyEnd;
  }
  if (at !== wire.length)
    throw new RangeError(`Cannot read the pattern part: ${wire.length - at} bytes follow its body`);
  return {
    scheme: header.scheme,
    body: concat(stretches),
    forEachRange: (fn) => {
      for (const t of tables) t.forEach(fn);
    },
  };
}

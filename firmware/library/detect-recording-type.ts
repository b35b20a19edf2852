/** @module What a library file is: a video container the codec can split, or opaque data. */
import { detectContainer, PROBE_BYTES } from "../../codec/container/detect-container.ts";
import type { ContainerKind } from "../../codec/recording-index.ts";

/** A video container (split into I-pictures via the relay and the rest direct) or "data" (sent whole). */
export type RecordingType = ContainerKind | "data";

/** Bytes of a file's start that detectRecordingType needs. */
export const TYPE_PROBE_BYTES = PROBE_BYTES;

/** sequence_header_code, ISO/IEC 13818-2 6.2.2.1 (also MPEG-1, ISO/IEC 11172-2 2.4.2.3). */
const SEQUENCE_HEADER_CODE = 0xb3;

/**
 * Detects the type from the start of a file (`probe`; `final` when that is the whole file). The codec takes
 * anything that is no other container as ES; the library only calls it ES when an MPEG video sequence header
 * is there, so a text file or an archive is filed as "data" and sent whole.
 */
export function detectRecordingType(probe: Uint8Array, final: boolean): RecordingType {
  const kind = detectContainer(probe, final || probe.length >= PROBE_BYTES) ?? "es";
  if (kind !== "es") return kind;
  return hasSequenceHeader(probe) ? "es" : "data";
}

function hasSequenceHeader(b: Uint8Array): boolean {
  for (let i = b.indexOf(0); i >= 0 && i + 3 < b.length; i = b.indexOf(0, i + 1)) {
    if (b[i + 1] === 0 && b[i + 2] === 1 && b[i + 3] === SEQUENCE_HEADER_CODE) return true;
  }
  return false;
}

/** @module An MP4 video track's clock: its media timescale and the shift its edit list applies to every sample's times (ISO/IEC 14496-12 8.4.2, 8.6.6). */

/** FullBox version (8 bits) + flags (24 bits), ISO/IEC 14496-12 4.2. */
const FULL_BOX_HEADER = 4;
/** mvhd and mdhd: creation and modification times are 32 bits in version 0, 64 in version 1; timescale follows. */
const TIMESCALE_OFFSET_V0 = FULL_BOX_HEADER + 8;
const TIMESCALE_OFFSET_V1 = FULL_BOX_HEADER + 16;
/** elst entries, ISO/IEC 14496-12 8.6.6.2: segment_duration, media_time, media_rate (32.16 fixed point). */
const ELST_ENTRIES = FULL_BOX_HEADER + 4;
const ELST_ENTRY_V0 = 12;
const ELST_ENTRY_V1 = 20;
/** media_time -1 marks an empty edit: presentation time passes with no media (8.6.6.3). */
const EMPTY_EDIT = -1;

/** A box's body as a byte range of the moov: [body, end). */
export interface BoxBody {
  body: number;
  end: number;
}

export interface TrackTime {
  /** mdhd's timescale: time stamps count 1/timeScale seconds; null without a readable mdhd. */
  timeScale: number | null;
  /**
   * Added to every sample's decoding and composition time to give its presentation-timeline time, as ffprobe
   * reports them: minus the first non-empty edit's media_time, plus the empty edits before it (converted from
   * the movie's timescale to the track's). 0 without an edit list, or with one that does not parse.
   */
  shift: number;
}

/** The timescale of an mvhd or mdhd body; null when the box is cut short or says 0. */
export function timeScaleOf(b: Uint8Array, box: BoxBody | undefined): number | null {
  if (!box || box.end - box.body < FULL_BOX_HEADER) return null;
  const at = box.body + (b[box.body] === 1 ? TIMESCALE_OFFSET_V1 : TIMESCALE_OFFSET_V0);
  if (at + 4 > box.end) return null;
  const scale = u32(b, at);
  return scale > 0 ? scale : null;
}

/**
 * The track's clock from its mdhd, the movie's mvhd and the track's elst. Only the edits up to the first one
 * with media make the shift (ffmpeg's reading for ffprobe); a cut-off or over-counted elst counts as none.
 */
export function readTrackTime(
  b: Uint8Array,
  boxes: { mvhd?: BoxBody | undefined; mdhd?: BoxBody | undefined; elst?: BoxBody | undefined },
): TrackTime {
  const timeScale = timeScaleOf(b, boxes.mdhd);
  const elst = boxes.elst;
  if (!elst || elst.end - elst.body < ELST_ENTRIES) return { timeScale, shift: 0 };
  const v1 = b[elst.body] === 1;
  const entryBytes = v1 ? ELST_ENTRY_V1 : ELST_ENTRY_V0;
  const count = u32(b, elst.body + FULL_BOX_HEADER);
  if (count > (elst.end - elst.body - ELST_ENTRIES) / entryBytes) return { timeScale, shift: 0 };
  const movieScale = timeScaleOf(b, boxes.mvhd);
  let delay = 0;
  for (let i = 0; i < count; i++) {
    const at = elst.body + ELST_ENTRIES + i * entryBytes;
    const duration = v1 ? u64(b, at) : u32(b, at);
    const mediaTime = v1 ? i64(b, at + 8) : i32(b, at + 4);
    if (mediaTime === EMPTY_EDIT) {
      // The empty edit's duration is in the movie's timescale; without both scales it cannot be placed.
      if (movieScale !== null && timeScale !== null) delay += Math.round((duration * timeScale) / movieScale);
      continue;
    }
    return { timeScale, shift: delay - mediaTime };
  }
  return { timeScale, shift: delay };
}

function u32(b: Uint8Array, at: number): number {
  return b[at]! * 2 ** 24 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function i32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** 64-bit fields as numbers: exact below 2^53, which any real duration or media time is. */
function u64(b: Uint8Array, at: number): number {
  return u32(b, at) * 2 ** 32 + u32(b, at + 4);
}

function i64(b: Uint8Array, at: number): number {
  return i32(b, at) * 2 ** 32 + u32(b, at + 4);
}

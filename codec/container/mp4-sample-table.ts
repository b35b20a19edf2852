/** @module The video track's samples (file offset, size, sync flag, composition and decoding time) from a checked moov, through mp4box. */

import type * as Mp4box from "mp4box";

export interface SampleRow {
  offset: number;
  size: number;
  sync: boolean;
  /**
   * Composition and decoding times in the track's timescale, before the edit list (ISO/IEC 14496-12 8.6.1);
   * null where the tables give none (an stts that covers fewer samples than stsz; a ctts that does, or of an
   * unknown version, leaves cts equal to dts, as when there is no ctts: 8.6.1.3). A sample's place in the file
   * does not depend on its time, so an unreadable clock never drops a picture.
   */
  cts: number | null;
  dts: number | null;
}

export interface SampleTableResult {
  samples: SampleRow[];
  /** Samples without a usable offset or size (a sample without a time is kept). */
  dropped: number;
  /** What mp4box reported or threw, if anything; the samples read before it are kept. */
  problem?: string;
}

/**
 * mp4box is loaded on the first MP4 only: evaluating it costs ~10 ms and ~15 MB of a process that may
 * never see an MP4 (inspect of an ES or TS). `require` keeps the codec's API synchronous; the bundler
 * wraps the module in a lazy initializer, so `bun build --compile` defers it the same way.
 */
let mp4box: typeof Mp4box | undefined;
function loadMp4box(): typeof Mp4box {
  mp4box ??= require("mp4box") as typeof Mp4box;
  return mp4box;
}

/**
 * Builds the sample list of the single track of `moov`, which must come from filterMoov(): that moov holds
 * only boxes whose counts were checked, so none of mp4box's error paths (which print to the console rather
 * than to onError) is reachable, and its default log level prints nothing below an error. A sample whose
 * chunk the tables do not name (a damaged stsc or stco) has no offset: it is dropped and counted.
 */
export function readSampleTable(moov: Uint8Array): SampleTableResult {
  const { createFile, MP4BoxBuffer } = loadMp4box();
  const problems: string[] = [];
  const samples: SampleRow[] = [];
  let dropped = 0;
  try {
    const file = createFile();
    file.onError = (module: string, message: string) => problems.push(`${module}: ${message}`);
    const copy = moov.slice();
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy.buffer, 0));
    file.flush();
    const trak = file.moov?.traks[0];
    if (!trak) return { samples, dropped, problem: "mp4box found no track in the checked moov" };
    for (const s of trak.samples) {
      if (Number.isSafeInteger(s.offset) && s.offset >= 0 && Number.isSafeInteger(s.size)) {
        // mp4box leaves dts NaN past the stts's last entry, and cts NaN past the ctts's (or for all of them
        // under a ctts version it does not know). Without a ctts entry ffmpeg shows the sample at its DTS.
        const dts = Number.isSafeInteger(s.dts) ? s.dts : null;
        const cts = dts === null ? null : Number.isSafeInteger(s.cts) ? s.cts : dts;
        samples.push({ offset: s.offset, size: s.size, sync: s.is_sync, cts, dts });
      } else {
        dropped++;
      }
    }
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  return problems.length > 0
    ? { samples, dropped, problem: problems.slice(0, 3).join("; ") }
    : { samples, dropped };
}

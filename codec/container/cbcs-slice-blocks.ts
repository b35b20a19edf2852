/** @module The 16-byte blocks cbcs encrypts in one H.264 slice's data, and where each CBC chain begins: the one layout the senders, the standard MP4 file and the leak bench share. */

/** AES block length (FIPS 197), the unit of the cbcs pattern (ISO/IEC 23001-7:2016 10.4.2). */
const PATTERN_BLOCK_BYTES = 16;

/**
 * Slice data at least this long gets its last block encrypted as a subsample of its own (CBC chain from the
 * constant IV, ISO/IEC 23001-7:2016 10.4.2), after the pattern over the rest. Shorter data (under two blocks)
 * keeps the plain pattern, whose first block is the slice's first.
 */
export const CBCS_TAIL_MIN_DATA_BYTES = 2 * PATTERN_BLOCK_BYTES;

/**
 * Calls `visit` for each encrypted block of the slice data [dataStart, nalEnd), in order: `crypt` whole blocks
 * encrypted then `skip` clear, from dataStart, over [dataStart, nalEnd − 16) (a trailing partial block clear,
 * 10.4.2), then the slice's last 16 bytes as a chain of their own. Returns the protected length of the first
 * subsample (the pattern's span; the tail block, when there is one, is a second subsample with no clear bytes).
 * `tail: false` gives the plain pattern over the whole data (a standard MP4 sample with too many slices for two
 * subsamples each, planMp4Cbcs()).
 *
 * Why the tail: the plain pattern leaves the slice's last bytes clear up to its end, and the slice's end is
 * exact (the next NAL unit), so an attacker who re-synchronises in the last clear run knows its macroblocks end
 * at the slice's last, and places them exactly (docs/security.md, H.264: it lifted frames of CAVLC `life` over
 * the visible bar; moved by one macroblock they gained nothing). With the last block encrypted, the run ends
 * inside a macroblock an unknown number of macroblocks (skips included) before the slice's end. A NAL unit may
 * span several subsamples (BytesOfClearData is 16 bits, 23001-7 7.2.2, so a NAL unit
 * over 65 535 clear bytes already needs several), and cbcs restarts the pattern and the IV at every subsample (10.4.2), which is what
 * ffmpeg's decrypter does (interoperability test, mp4-cbcs-protection.test.ts).
 */
export function cbcsSliceBlocks(
  dataStart: number,
  nalEnd: number,
  scheme: { crypt: number; skip: number; tail?: boolean },
  visit: (at: number, chainStart: boolean) => void,
): number {
  const tail = scheme.tail !== false && nalEnd - dataStart >= CBCS_TAIL_MIN_DATA_BYTES;
  const end = tail ? nalEnd - PATTERN_BLOCK_BYTES : nalEnd;
  const run = scheme.crypt * PATTERN_BLOCK_BYTES;
  const period = (scheme.crypt + scheme.skip) * PATTERN_BLOCK_BYTES;
  let chain = true;
  for (let at = dataStart; at + PATTERN_BLOCK_BYTES <= end; at += period) {
    // Only whole blocks: a run cut by the span's end keeps its whole blocks (10.4.2: a partial block is clear).
    const whole = Math.floor(Math.min(run, end - at) / PATTERN_BLOCK_BYTES);
    for (let b = 0; b < whole; b++) {
      visit(at + b * PATTERN_BLOCK_BYTES, chain);
      chain = false;
    }
  }
  if (tail) visit(end, true);
  return end - dataStart;
}

/** @module What slice sizes alone reveal: per picture, the Pearson correlation between bytes per slice row and true motion per row. */
import { $ } from "bun";

/** A coded picture's slices, by row, as an eavesdropper reads them from the clear start codes alone. */
interface PictureSlices {
  /** Display frame index: pictures before its GOP header + temporal_reference (ISO/IEC 13818-2 6.3.9). */
  display: number;
  type: number;
  /** Bytes of each slice row (slice_start_code value - 1 is the row, 6.3.16), start code included. */
  rowBytes: number[];
}

function slicesByPicture(bytes: Uint8Array, rows: number): PictureSlices[] {
  const buf = Buffer.from(bytes);
  const prefix = Buffer.from([0, 0, 1]);
  const starts: number[] = [];
  for (let at = buf.indexOf(prefix); at >= 0; at = buf.indexOf(prefix, at + 1)) starts.push(at);
  const out: PictureSlices[] = [];
  let pictures = 0;
  let gopFirst = 0;
  let current: PictureSlices | undefined;
  for (let k = 0; k < starts.length; k++) {
    const at = starts[k]!;
    const code = bytes[at + 3]!;
    const length = (starts[k + 1] ?? bytes.length) - at;
    if (code === 0xb8) gopFirst = pictures;
    if (code === 0x00) {
      const temporalReference = (bytes[at + 4]! << 2) | (bytes[at + 5]! >> 6);
      current = {
        display: gopFirst + temporalReference,
        type: (bytes[at + 5]! >> 3) & 7,
        rowBytes: new Array(rows).fill(0),
      };
      out.push(current);
      pictures++;
    }
    if (code >= 0x01 && code <= 0xaf && current !== undefined && code - 1 < rows)
      current.rowBytes[code - 1]! += length;
  }
  return out;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Per-picture r for the P and B pictures, and their median: how well slice sizes locate motion. */
export interface SliceSizeLeak {
  median: number;
  low: number;
  high: number;
  pictures: number;
}

/**
 * Decodes the original to grey frames (ffmpeg), takes the mean absolute luma change from the previous frame
 * in each 16-line band as the row's true motion, and correlates it, per P/B picture, with the bytes of that
 * row's slice. Start codes are in the clear in every protection mode, so this holds for all of them.
 */
export async function sliceSizeLeak(
  path: string,
  size: { width: number; height: number },
): Promise<SliceSizeLeak> {
  const { width, height } = size;
  const rows = Math.ceil(height / 16);
  const raw = new Uint8Array(
    await $`ffmpeg -v error -i ${path} -f rawvideo -pix_fmt gray -`.quiet().arrayBuffer(),
  );
  const frameBytes = width * height;
  const frames = Math.floor(raw.length / frameBytes);
  const motion = (f: number): number[] => {
    const out = new Array(rows).fill(0);
    const a = f * frameBytes;
    const b = (f - 1) * frameBytes;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        out[y >> 4] += Math.abs(raw[a + y * width + x]! - raw[b + y * width + x]!);
    return out;
  };
  const pictures = slicesByPicture(new Uint8Array(await Bun.file(path).arrayBuffer()), rows);
  const rs: number[] = [];
  for (const p of pictures) {
    if (p.type === 1 || p.display < 1 || p.display >= frames) continue;
    const r = pearson(p.rowBytes, motion(p.display));
    if (!Number.isNaN(r)) rs.push(r);
  }
  rs.sort((x, y) => x - y);
  return {
    median: rs[rs.length >> 1] ?? Number.NaN,
    low: rs[0] ?? Number.NaN,
    high: rs[rs.length - 1] ?? Number.NaN,
    pictures: rs.length,
  };
}

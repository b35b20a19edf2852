/** @module ffmpeg as the attacker's macroblock-layer parser: decodes a batch of candidate slices, one picture each, and reports per candidate how far its parse went. */
import { join } from "node:path";

/** What ffmpeg's decoder said about one candidate picture. */
export interface CandidateOutcome {
  /** Macroblocks the candidate's slice decoded before it ended or failed (the picture's size less those concealed). */
  decodedMbs: number;
  /** Error lines for this picture (an invalid code, an overrun, a damaged macroblock). */
  errors: number;
}

/** ffmpeg's error concealment summary, one per picture with missing macroblocks (libavcodec/error_resilience.c). */
const CONCEALING = /concealing (\d+) DC, (\d+) AC, (\d+) MV errors/;
/** The per-slice line of `-debug pict` (libavcodec/h264_slice.c). */
const SLICE_LINE = /\] slice:\d+ /;
/** The h264 decoder's complaints about a macroblock's syntax or its decoding (h264_cavlc.c, h264_cabac.c, h264_slice.c, h264_mb). */
const ERROR_LINE =
  /error while decoding MB|too large|out of range|unavailable|negative number|corrupted macroblock|Invalid level prefix|Not enough data|is invalid|dquant|Reference \d+ >=|overread|cabac decode of qscale diff failed|slice mismatch/;

/**
 * Decodes `candidates` (Annex B slices, each with first_mb_in_slice 0, so each starts a picture) after `greyAu`
 * (its SPS, PPS and IDR: the references) in one ffmpeg run, single-threaded so that its log follows the decode
 * order, and splits the log at each picture's concealment line. A candidate never covers the whole picture, so
 * each one ends with such a line; a batch whose line count disagrees is split until it agrees, rather than misattribute.
 */
export async function decodeCandidates(
  candidates: Uint8Array[],
  options: { greyAu: Uint8Array; dir: string; picSize: number; batch?: number },
): Promise<CandidateOutcome[]> {
  const batch = options.batch ?? 2000;
  const parts: Uint8Array[][] = [];
  for (let from = 0; from < candidates.length; from += batch)
    parts.push(candidates.slice(from, from + batch));
  // DECODERS ffmpeg processes at a time, each on its own batch file: one decoder is single-threaded (its log
  // must follow the decode order), and the machine has more than one core.
  const results: CandidateOutcome[][] = [];
  let next = 0;
  const worker = async (w: number) => {
    while (next < parts.length) {
      const i = next++;
      results[i] = await decodeBatch(parts[i]!, { ...options, file: `candidates-${w}.h264` });
    }
  };
  await Promise.all(Array.from({ length: DECODERS }, (_, w) => worker(w)));
  return results.flat();
}

/** ffmpeg decoders run side by side. */
const DECODERS = 2;

async function decodeBatch(
  part: Uint8Array[],
  options: { greyAu: Uint8Array; dir: string; picSize: number; file: string },
): Promise<CandidateOutcome[]> {
  const file = join(options.dir, options.file);
  await Bun.write(file, new Blob([options.greyAu, ...part]));
  // -debug pict logs a line per slice header: the log splits at them. Only the decoding instance's lines count
  // (the one the last slice line came from: probing runs a second instance over the first pictures).
  const p = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostats",
      "-debug",
      "pict",
      "-v",
      "debug",
      "-threads",
      "1",
      "-i",
      file,
      "-f",
      "null",
      "-",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const log = (await new Response(p.stderr).text()).split("\n");
  await p.exited;
  let instance = "";
  for (let i = log.length - 1; i >= 0 && instance === ""; i--) {
    if (SLICE_LINE.test(log[i]!)) instance = log[i]!.slice(0, log[i]!.indexOf("]") + 1);
  }
  const outcomes: CandidateOutcome[] = [];
  let current: CandidateOutcome | undefined;
  let seenFirst = false;
  for (const line of log) {
    if (!line.startsWith(instance)) continue;
    if (SLICE_LINE.test(line)) {
      // The first slice line is the grey IDR's.
      if (!seenFirst) {
        seenFirst = true;
        continue;
      }
      current = { decodedMbs: -1, errors: 0 };
      outcomes.push(current);
      continue;
    }
    if (!current) continue;
    const m = CONCEALING.exec(line);
    if (m) current.decodedMbs = options.picSize - Number(m[1]);
    else if (ERROR_LINE.test(line)) current.errors++;
  }
  // A picture with no concealment line had every macroblock decoded: not a candidate's (it covers a part).
  for (const o of outcomes) if (o.decodedMbs < 0) o.errors++;
  if (outcomes.length === part.length) return outcomes;
  // A candidate ffmpeg dropped without a slice line (a synthetic context the decoder refused whole) would shift
  // every later outcome: the batch is decoded again in halves until the one without a picture is alone, and
  // counts as failed.
  if (part.length === 1) return [{ decodedMbs: 0, errors: 1 }];
  const half = part.length >> 1;
  return [
    ...(await decodeBatch(part.slice(0, half), options)),
    ...(await decodeBatch(part.slice(half), options)),
  ];
}

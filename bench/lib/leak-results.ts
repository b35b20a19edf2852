/** @module The leak bench's result records: what each content kind and protection mode scored, for the report. */
import type { FrameScore } from "./leak-metrics.ts";

export interface ContentKind {
  name: string;
  /** What it stands for, for the table. */
  kind: string;
  /** lavfi graph. */
  source: string;
}

export interface ModeResult {
  mode: string;
  /** Scores of the view ffmpeg decodes from the wire bytes as they are. */
  frames: FrameScore[];
  /** Scores of the re-synchronising attacker's rebuilt view (bench/lib/attack/). */
  attackFrames: FrameScore[];
  attackViewPath: string;
  /** P/B slices holding ciphertext, slices whose clear tail the attacker recovered, macroblocks in those. */
  attack: { attackedSlices: number; recoveredSlices: number; recoveredMacroblocks: number };
  encryptedShare: number;
  viewPath: string;
  /** Frames the view's decoder put out (before gaps are filled); fewer than the original's when it dropped some. */
  decodedFrames: number;
}

export interface ContentResult {
  content: ContentKind;
  path: string;
  frames: number;
  grey: FrameScore[];
  modes: ModeResult[];
}

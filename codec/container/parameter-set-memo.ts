/** @module ParameterSetMemo: the last parameter set NAL unit parsed and what it parsed to, so a stream that repeats one SPS or PPS before every random-access point is parsed once. */

/**
 * Broadcast and recorder streams repeat their SPS and PPS before every IDR picture (ITU-T H.264 7.4.1.2.1 lets
 * them, and a receiver that joins mid-stream needs them): the 4 s leak clips carry one per GOP, a 1 GiB looped
 * clip ~16,000. Parsing each again costs little per NAL but made the SPS, VUI and PPS readers hot enough for
 * JavaScriptCore's optimising tiers, whose compiles a send paid in every process (readSps, readVui and readPps:
 * 13 DFG and FTL compiles, 158 ms of compiler time per 1 GiB send, `BUN_JSC_reportCompileTimes=1`). A parse is a pure function of the NAL's
 * bytes and, for a PPS, of the SPS it refers to, so an identical NAL under the same `context` gives the same
 * record: the memo returns it without parsing. A NAL whose parse throws is not remembered, so its error is
 * reported every time, as before.
 */
export class ParameterSetMemo<T> {
  #bytes: Uint8Array | undefined;
  #context: unknown;
  #value: T | undefined;

  /** What `parse()` gives for `nal` under `context`: remembered from the last call when both are the same. */
  get(nal: Uint8Array, context: unknown, parse: () => T): T {
    if (this.#value !== undefined && context === this.#context && sameBytes(nal, this.#bytes!))
      return this.#value;
    const value = parse();
    this.#bytes = nal.slice();
    this.#context = context;
    this.#value = value;
    return value;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

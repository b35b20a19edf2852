/** @module pushHoldingBlocks(): the push() of a block cipher over a streamed body, where a block cut by a chunk's end is held back until the next chunk completes it. */

const EMPTY = new Uint8Array(0);

/** What a cipher keeps between pushes: the bytes held back, from the first byte of a block not yet whole. */
export interface HeldBytes {
  held: Uint8Array;
}

/**
 * Transforms `chunk` (in place) and returns the body bytes now final, in order. Held bytes go first: only as many
 * of the chunk's bytes as the held block still lacks (`lacking()`) are joined to them (joining the whole chunk
 * had copied every chunk after a cut block into new memory, the costliest thing the cipher did). `transform(work)`
 * encrypts or decrypts every whole block of `work` and says how many of its bytes are final; the rest is held.
 * When the held block cannot be completed by the chunk (a plan whose block ends past the body), everything is held
 * and the cipher's finish() refuses it.
 */
export function pushHoldingBlocks(
  state: HeldBytes,
  chunk: Uint8Array,
  o: { lacking: () => number; transform: (work: Uint8Array) => number },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let rest = chunk;
  if (state.held.length > 0) {
    const take = Math.min(chunk.length, o.lacking());
    const joined = new Uint8Array(state.held.length + take);
    joined.set(state.held, 0);
    joined.set(chunk.subarray(0, take), state.held.length);
    const keep = o.transform(joined);
    if (keep > 0) out.push(joined.subarray(0, keep));
    state.held = keep < joined.length ? joined.slice(keep) : EMPTY;
    rest = chunk.subarray(take);
    if (rest.length === 0) return out;
    if (state.held.length > 0) {
      const all = new Uint8Array(state.held.length + rest.length);
      all.set(state.held, 0);
      all.set(rest, state.held.length);
      state.held = all;
      return out;
    }
  }
  const keep = o.transform(rest);
  if (keep > 0) out.push(rest.subarray(0, keep));
  state.held = keep < rest.length ? rest.slice(keep) : EMPTY;
  return out;
}

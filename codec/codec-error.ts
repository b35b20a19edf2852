/** @module The codec's one error class: a built-in meaning plus a stable code. */

/**
 * Thrown only from the codec's strict entry points (a single-header parser handed a bad header);
 * the streaming indexers never throw on bad input: they record an IndexError and resync.
 */
export class CodecError extends SyntaxError {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "CodecError";
  }
}

/** @module HeaderSpill: where a receiver keeps a version 3/4 pattern header's bytes out of memory while they stream in and as its walks read them back (issue 14). */

/**
 * A store for one pattern header's bytes, header offset 0 first (a receiver's temp file,
 * firmware/files/header-spill-file.ts). The codec does no I/O: it appends the bytes as they arrive, checks the
 * digest it computed on the way, then reads the table back forward a window at a time. Synchronous, as
 * RangeBlockStore is: the walks read from the cipher's synchronous apply().
 */
export interface HeaderSpill {
  /** Appends the header's next bytes (the caller may reuse `bytes` afterwards). */
  write(bytes: Uint8Array): void;
  /** Fills `into` with the header's bytes from `position`; throws (a RangeError) if they are not all there. */
  read(position: number, into: Uint8Array): void;
  /** Frees the store (its file); reads after it throw. Called once the part ends, well or not. */
  close(): void;
}

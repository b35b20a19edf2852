/** @module A CPU-bound stand-in for a recorder's recording process: hashes for DURATION_MS and prints "time count" samples. */

// Run as `bun test/support/cpu-stand-in.ts DURATION_MS`. Work is counted in SHA-256 digests of 64 KiB, the kind of
// steady CPU work an encoder does; a line "<Date.now()> <digests so far>" every 25 ms lets the reader take the
// rate over any part of the run, e.g. only while a send competes with it.
const durationMs = Number(process.argv[2]);
if (!Number.isFinite(durationMs) || durationMs <= 0) {
  console.error(`Cannot run the stand-in: duration '${process.argv[2]}' is not a positive number of ms`);
  process.exit(2);
}
const block = new Uint8Array(64 * 1024).fill(0x5a);
const end = Date.now() + durationMs;
let digests = 0;
let next = Date.now();
for (let now = Date.now(); now < end; now = Date.now()) {
  if (now >= next) {
    process.stdout.write(`${now} ${digests}\n`);
    next = now + 25;
  }
  new Bun.CryptoHasher("sha256").update(block).digest();
  digests++;
}
process.stdout.write(`${Date.now()} ${digests}\n`);

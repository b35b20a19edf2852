/** @module Builds the single `pvrlink` binary for every recorder target with `bun build --compile`. */
import { $ } from "bun";

// Recorder boxes are x64 and ARM64 Linux; Bun fetches each target's runtime from the npm registry.
const TARGETS = [
  { target: "bun-linux-x64", out: "dist/pvrlink-linux-x64" },
  { target: "bun-linux-arm64", out: "dist/pvrlink-linux-arm64" },
] as const;

const only = process.argv[2];
for (const { target, out } of TARGETS) {
  if (only && !target.endsWith(only)) continue;
  await $`${process.execPath} build --compile --minify --sourcemap --target=${target} firmware/main.ts --outfile ${out}`.quiet();
  console.log(`built ${out} (${target})`);
}

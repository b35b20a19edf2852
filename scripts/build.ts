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
  // --bytecode ships JavaScriptCore bytecode, so the binary does not parse its ~200 modules at every start
  // (`pvrlink --version` 0.035 -> 0.011 s). CommonJS rather than ESM output: an ESM bundle hoists every node:
  // import of every module to the top, so each start loaded node:crypto, node:net, node:util... for every
  // command (0.011 -> 0.006 s for `--version`); CJS loads a module's builtins when its command is imported.
  await $`${process.execPath} build --compile --minify --sourcemap --bytecode --format=cjs --target=${target} bin/pvrlink.ts --outfile ${out}`.quiet();
  console.log(`built ${out} (${target})`);
}

/** @module Assembles the codec's WebAssembly kernels from their .wat sources into TypeScript modules (`--check` only compares). */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import wabt from "wabt";

/**
 * Each kernel: its source and the generated module that carries its bytes. The bytes live in a TypeScript
 * module (base64) rather than a .wasm file so the codec loads them without I/O, the same way under
 * `bun test` and inside the compiled binary.
 */
export const KERNELS = [
  {
    source: "codec/mpeg-video/start-code-scan.wat",
    output: "codec/mpeg-video/start-code-scan-wasm.ts",
    exportName: "START_CODE_SCAN_WASM_BASE64",
  },
] as const;

/** The WebAssembly binary of a .wat source, validated; SIMD (the 128-bit proposal, standard since 2021) on. */
export async function assemble(source: string): Promise<Uint8Array> {
  const tools = await wabt();
  const module = tools.parseWat(basename(source), readFileSync(source, "utf8"), { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ canonicalize_lebs: true }).buffer;
  } finally {
    module.destroy();
  }
}

/** The generated TypeScript module for one kernel's bytes. */
export function generatedModule(kernel: (typeof KERNELS)[number], bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const lines = b64.match(/.{1,100}/g) ?? [];
  return [
    `/** @module Generated from ${basename(kernel.source)} by scripts/assemble-wasm.ts: do not edit; change the .wat and run \`bun scripts/assemble-wasm.ts\`. */`,
    "",
    `/** The WebAssembly binary (${bytes.length} bytes), base64. */`,
    `export const ${kernel.exportName} =`,
    `${lines.map((l) => `  "${l}"`).join(" +\n")};`,
    "",
  ].join("\n");
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const kernel of KERNELS) {
    const text = generatedModule(kernel, await assemble(kernel.source));
    let current = "";
    try {
      current = readFileSync(kernel.output, "utf8");
    } catch {}
    if (current === text) continue;
    if (check) {
      console.error(`${kernel.output} is stale: run \`bun scripts/assemble-wasm.ts\``);
      stale++;
    } else {
      writeFileSync(kernel.output, text);
      console.log(`wrote ${kernel.output}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}

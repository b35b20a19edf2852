/** @module Assembles the codec's WebAssembly kernels from their .wat sources into TypeScript modules. */
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
  {
    source: "codec/container/ts-packet-walk.wat",
    output: "codec/container/ts-packet-walk-wasm.ts",
    exportName: "TS_PACKET_WALK_WASM_BASE64",
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

// The check that the committed bytes match their source is a test (start-code-kernel.test.ts), not a mode here.
if (import.meta.main) {
  for (const kernel of KERNELS) {
    const text = generatedModule(kernel, await assemble(kernel.source));
    writeFileSync(kernel.output, text);
    console.log(`wrote ${kernel.output}`);
  }
}

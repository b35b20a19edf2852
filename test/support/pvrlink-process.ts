/** @module For tests: runs the compiled pvrlink binary (x64 natively, ARM64 under qemu) and lists the test recordings. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const X64_BINARY = join(ROOT, "dist", "pvrlink-linux-x64");
export const ARM64_BINARY = join(ROOT, "dist", "pvrlink-linux-arm64");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm test` builds dist/ first; a missing binary is a loud failure, never a skipped test. */
export function requireBinary(path: string): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`npm run build\` (npm test does it first)`);
  return path;
}

export async function runPvrlink(args: string[], binary = X64_BINARY): Promise<RunResult> {
  const cmd =
    binary === ARM64_BINARY
      ? ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", requireBinary(binary), ...args]
      : [requireBinary(binary), ...args];
  return runCommand(cmd);
}

/** Runs any command to its end, collecting both outputs; cwd and env as for Bun.spawn. */
export async function runCommand(
  cmd: string[],
  o: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, { ...o, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Every recording under testdata/ (the ffprobe/type sidecars and scripts are not recordings). */
export function testRecordings(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(m1v|m2v|mpv|mpg|mpeg|vob|ts|m2ts|mp4)$/.test(name)) out.push(path);
    }
  };
  walk(join(ROOT, "testdata"));
  return out;
}

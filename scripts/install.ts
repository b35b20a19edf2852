/** @module `npm run install-bin`: copies this machine's compiled pvrlink to PREFIX/bin (default ~/.local/bin). */
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

const arch = process.arch === "arm64" ? "arm64" : "x64";
const source = join(import.meta.dir, "..", "dist", `pvrlink-linux-${arch}`);
if (!existsSync(source)) {
  console.error(`install-bin: ${source} is missing; run 'npm run build' first`);
  process.exit(1);
}
const bin = join(process.env.PREFIX ?? join(homedir(), ".local"), "bin");
mkdirSync(bin, { recursive: true });
const target = join(bin, "pvrlink");
// Copy beside, then rename: a running pvrlink keeps its old inode instead of failing with ETXTBSY.
copyFileSync(source, `${target}.new`);
chmodSync(`${target}.new`, 0o755);
renameSync(`${target}.new`, target);
console.log(`installed ${target}`);
if (!(process.env.PATH ?? "").split(delimiter).includes(bin))
  console.log(`${bin} is not on your PATH: export PATH=${bin}:$PATH (add it to ~/.profile to keep it)`);

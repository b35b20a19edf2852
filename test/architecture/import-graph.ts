/** @module The repository's source files, what each imports, and the folder each belongs to: the input of the architecture rules. */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The top-level folders of code; a file in a subfolder belongs to its two-level folder (`control/store`). */
export const TOP_FOLDERS = [
  "bin",
  "cli",
  "codec",
  "control",
  "crypto",
  "demo",
  "firmware",
  "protocol",
  "tools",
  "bench",
  "scripts",
  "test",
] as const;

export interface SourceFile {
  /** Path from the repository root, with "/" separators, e.g. "control/store/device-store.ts". */
  path: string;
  /** Its folder: the two-level folder for a file in a subfolder, else its top-level folder. */
  folder: string;
  /** The source with comments removed (so a comment that names `Bun.file` is not a use of it). */
  code: string;
  /** Every module specifier it imports or re-exports, type-only imports included, as written. */
  specifiers: string[];
  /** The repository files its relative specifiers resolve to. */
  imports: string[];
}

/** A test, or a file only tests run: `*.test.ts` anywhere, and everything under test/. */
export const isTestCode = (path: string): boolean => path.includes(".test.") || path.startsWith("test/");

/** "codec/container/ts-packet.ts" -> "codec/container"; "codec/recording-index.ts" -> "codec". */
export function folderOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

/**
 * Removes comments, leaving strings alone (a "//" inside a URL string is not a comment). Template literals are
 * kept whole; a comment inside a `${}` is rare enough in this code base to ignore.
 */
export function stripComments(src: string): string {
  let out = "";
  for (let i = 0; i < src.length; ) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const STATIC = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The module specifiers of static imports and re-exports (type-only too), side-effect imports and import(). */
export function specifiersOf(code: string): string[] {
  return [STATIC, BARE, DYNAMIC].flatMap((re) => [...code.matchAll(re)].map((m) => m[1] as string));
}

/** Reads one file (path relative to root) into a SourceFile. */
export function readSourceFile(root: string, path: string): SourceFile {
  return sourceFile(path, readFileSync(join(root, path), "utf8"));
}

/**
 * A SourceFile from a path and its source. Specifiers are read from the source as written (an import line is
 * never inside a comment here, and a string the comment stripper misjudged must not hide an import).
 */
export function sourceFile(path: string, src: string): SourceFile {
  const code = stripComments(src);
  const specifiers = specifiersOf(src);
  const imports = specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => relative(".", join(dirname(path), s)).replaceAll("\\", "/"));
  return { path, folder: folderOf(path), code, specifiers, imports };
}

/** Every .ts file under the top-level code folders of `root`. */
export function readSourceTree(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const top of TOP_FOLDERS)
    for (const path of new Bun.Glob(`${top}/**/*.ts`).scanSync({ cwd: resolve(root) }))
      out.push(readSourceFile(root, path.replaceAll("\\", "/")));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

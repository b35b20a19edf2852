/** @module A recording's name made safe as one file name, for the library's files and for export. */
import { basename } from "node:path";

/** One path component, letters, digits and ._- and space only, no leading dot, at most 120 characters. */
export function safeFileName(name: string): string {
  const safe = basename(name)
    .replace(/[^\p{L}\p{N}._ -]/gu, "_")
    .replace(/^[.\s]+/, "")
    .slice(-120);
  return safe === "" ? "recording" : safe;
}

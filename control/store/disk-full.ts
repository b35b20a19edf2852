/** @module Recognises the errors that mean "no space left" from sqlite and the filesystem, so callers can degrade instead of failing. */

/** True for SQLITE_FULL (sqlite's "database or disk is full") and ENOSPC/EDQUOT from the filesystem. */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("SQLITE_FULL") || code === "ENOSPC" || code === "EDQUOT") return true;
  return typeof e?.message === "string" && /database or disk is full/i.test(e.message);
}

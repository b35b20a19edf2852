/** @module The console's browser-side defences: its Content-Security-Policy and the same-origin check on every action. */
import type { Context } from "hono";

/** No framing (clickjacking), scripts and styles from the node only, nothing else. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Fetch metadata first (every current browser sends it), then Origin; a request with neither is a script's. */
export function sameOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = c.req.header("origin");
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === c.req.header("host");
  } catch {
    return false; // "null" or garbage
  }
}

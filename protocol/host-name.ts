/** @module A DNS host name as a registration may carry one (seed A variation 3): RFC 1123 syntax, never an IP literal. */
import { isIP } from "node:net";

/** RFC 1035 2.3.4: at most 253 characters in text form, labels of 1-63. */
const MAX_HOST_NAME = 253;
/** RFC 1123 2.1: letters, digits and hyphens, not starting or ending with a hyphen. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * True for a host name such as a dynamic-DNS name (`grandma.dyndns.example`) or `localhost`: labels per RFC 1123,
 * an optional trailing dot, and a last label that is not all digits (so "10.0.0.1" or "1e3" never pass as names).
 */
export function isHostName(s: string): boolean {
  const name = s.endsWith(".") ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > MAX_HOST_NAME || isIP(name) !== 0) return false;
  const labels = name.split(".");
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? "");
}

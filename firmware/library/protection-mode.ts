/** @module How a recording's direct part is protected in transit: the modes, the default, and the --protection parser. */
import { InputError } from "../../cli/command.ts";

/**
 * How a recording's direct part is protected in transit. "sealed": the direct channel AES-GCM-seals every DATA
 * frame under the recorders' forward-secret key (issue 13), so the path sees nothing of it. The two light modes,
 * for boxes without AES instructions, send DATA frames clear but authenticated: "seed" leaves the P/B pictures
 * readable, as seed A specifies; "pattern" encrypts 1 in 10 blocks of every P/B slice (docs/security.md).
 * A video is split in every mode: its I-pictures go sealed through the node, the rest directly.
 */
export type ProtectionMode = "sealed" | "seed" | "pattern";

export const PROTECTION_MODES: readonly ProtectionMode[] = ["sealed", "seed", "pattern"];

/** The modes whose DATA frames travel clear (authenticated) on the direct channel. */
export function isLightProtection(mode: ProtectionMode): boolean {
  return mode !== "sealed";
}

/**
 * Sealed: on hardware with AES instructions sealing a frame costs about what tagging a clear one does
 * (docs/benchmarks.md, Encrypt: 3.4 against 3.9 GB/s), so the light modes buy nothing there (issue 13).
 */
export const DEFAULT_PROTECTION: ProtectionMode = "sealed";

/** Parses a --protection value; InputError ERR_PROTECTION otherwise. */
export function parseProtection(value: string): ProtectionMode {
  const v = value.trim().toLowerCase();
  if ((PROTECTION_MODES as readonly string[]).includes(v)) return v as ProtectionMode;
  throw new InputError(
    `Cannot use protection '${value}': expected ${PROTECTION_MODES.join(", ")}`,
    "ERR_PROTECTION",
  );
}

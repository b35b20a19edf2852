/** @module Every error a command ends with, as one line: what failed, its stable code, and what to do next. */
import { EXIT_INPUT, EXIT_INTERRUPTED, EXIT_USAGE, InputError, UsageError } from "./command.ts";

/**
 * The next step for a code, when the message does not carry one. System codes are Node's errno names; the
 * others are pvrlink's stable codes (docs/protocol.md for the node's).
 */
export const NEXT_STEP: Readonly<Record<string, string>> = {
  ECONNREFUSED:
    "is the control node running? start it ('pvrlink control serve'), or check the node URL in the credential or --node",
  ConnectionRefused:
    "is the control node running? start it ('pvrlink control serve'), or check the node URL in the credential or --node",
  EADDRINUSE:
    "another program (or another pvrlink) uses that port: stop it, or pick another with --http/--udp (node) or --listen (recorder)",
  EACCES: "check the file's or directory's permissions, or pick a port above 1023",
  ENOTFOUND: "check the host name in the node URL",
  EAI_AGAIN: "check the host name in the node URL and this machine's DNS",
  ETIMEDOUT: "check the network path to the node, then retry",
  ECONNRESET: "the connection dropped: check the node and the network, then retry",
  ERR_CREDENTIAL_MISSING: "enroll first: 'pvrlink recorder enroll --credential FILE'",
  ERR_INTERRUPTED:
    "send it again with --resume to send only what the receiver (or the node) lacks, or without it to start over; the unfinished session ends when its lease runs out",
  ERR_INTERNAL: "rerun with PVRLINK_DEBUG=1 for the stack trace and report it",
};

/** How a command's failure is shown: the line (without the command prefix), its code and the exit code. */
export interface ErrorLine {
  message: string;
  code: string;
  next: string | undefined;
  exit: number;
}

/** The code a thrown value carries: an InputError's, a system error's errno name, else ERR_INTERNAL. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code !== "" ? code : "ERR_INTERNAL";
}

/** Rewrites what Bun and Node say about sockets into "Cannot X: why", naming the address. */
function systemMessage(
  err: Error & { path?: unknown; address?: unknown; port?: unknown },
  code: string,
): string {
  const where =
    typeof err.path === "string"
      ? err.path
      : typeof err.address === "string"
        ? `${err.address}${typeof err.port === "number" ? `:${err.port}` : ""}`
        : /port (\d+)/.exec(err.message)?.[0];
  if (code === "ECONNREFUSED" || code === "ConnectionRefused")
    return `Cannot connect${where ? ` to ${where}` : ""}: connection refused`;
  if (code === "EADDRINUSE") return `Cannot listen${where ? ` on ${where}` : ""}: the address is in use`;
  return err.message;
}

/** Classifies any thrown value; never includes a stack trace and never spans lines. */
export function errorLine(err: unknown): ErrorLine {
  const code = err instanceof UsageError ? err.code : codeOf(err);
  const exit =
    err instanceof UsageError ? EXIT_USAGE : code === "ERR_INTERRUPTED" ? EXIT_INTERRUPTED : EXIT_INPUT;
  let message: string;
  if (err instanceof InputError || err instanceof UsageError) message = err.message;
  else if (err instanceof Error)
    message = code === "ERR_INTERNAL" ? `internal error: ${err.message}` : systemMessage(err, code);
  else message = `internal error: ${String(err)}`;
  const next = NEXT_STEP[code];
  return { message: message.replace(/\s*\n\s*/g, " "), code, next, exit };
}

/** `MESSAGE (CODE); NEXT`: the text after `pvrlink COMMAND: `. */
export function formatErrorLine(e: ErrorLine): string {
  return `${e.message} (${e.code})${e.next !== undefined ? `; ${e.next}` : ""}`;
}

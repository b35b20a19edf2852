/** @module The recorder daemon's log line: time, level, role, event, then the event's fields as key=value. */

/**
 * info: the daemon did its work (registered, filed, offer); warn: something degraded that the daemon works
 * around by itself (a keepalive unanswered, a mapping lost, a pickup put off); error: something failed that
 * the operator may have to look at (a send, a receive, a status write).
 */
export type LogLevel = "info" | "warn" | "error";

/**
 * Logs one event; fields with undefined values are left out. Never given secrets. The level is the event's
 * (levelOf) unless given.
 */
export type DaemonLog = (event: string, fields?: Record<string, unknown>, level?: LogLevel) => void;

/**
 * Events that are warnings by name; every event ending in -failed, -rejected, -error or -damaged is an error
 * (levelOf). Kept here, beside the one formatter, so the call sites only name what happened.
 */
const WARN_EVENTS = new Set([
  "direct-denied",
  "direct-refused",
  "keepalive-unanswered",
  "mapping-lost",
  "mapping-changed",
  "pickup-deferred",
  "pickup-retry-later",
]);
const ERROR_SUFFIXES = ["-failed", "-rejected", "-error", "-damaged"];

/** The level an event is logged at when the call gives none. */
export function levelOf(event: string): LogLevel {
  if (ERROR_SUFFIXES.some((s) => event.endsWith(s))) return "error";
  return WARN_EVENTS.has(event) ? "warn" : "info";
}

/** key=value pairs; a value with spaces, quotes or '=' is JSON-quoted so the line stays machine-splittable. */
function formatFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const s = typeof v === "string" ? v : JSON.stringify(v);
      return `${k}=${/^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)}`;
    })
    .join(" ");
}

/**
 * One line, `<ISO time> <level> recorder <event> k=v...`. The level comes before the role so that
 * ` recorder <event>` reads as it always did for scripts and tests matching on it.
 */
export function formatDaemonLine(
  event: string,
  fields: Record<string, unknown> = {},
  options: { level?: LogLevel; now?: Date } = {},
): string {
  const level = options.level ?? levelOf(event);
  const rest = formatFields(fields);
  return `${(options.now ?? new Date()).toISOString()} ${level} recorder ${event}${rest ? ` ${rest}` : ""}`;
}

/** A DaemonLog writing formatDaemonLine() lines to `sink`. */
export function daemonLog(sink: (line: string) => void): DaemonLog {
  return (event, fields, level) => sink(formatDaemonLine(event, fields, level ? { level } : {}));
}

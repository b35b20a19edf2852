/** @module The recorder daemon's log line: time, role, event, then the event's fields as key=value. */

/** Logs one event; fields with undefined values are left out. Never given secrets. */
export type DaemonLog = (event: string, fields?: Record<string, unknown>) => void;

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

/** A DaemonLog writing `<ISO time> recorder <event> k=v...` lines to `sink`. */
export function daemonLog(sink: (line: string) => void): DaemonLog {
  return (event, fields = {}) =>
    sink(
      `${new Date().toISOString()} recorder ${event}${Object.keys(fields).length ? ` ${formatFields(fields)}` : ""}`,
    );
}

/** @module The operator's small HTML status page: devices and who is connected, sessions, spool usage. */
import type { AdminDevice, AdminSession, SpoolUsage } from "../../protocol/api-types.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML: device names come from devices, so they are untrusted. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const time = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace(".000Z", "Z") : "");

export interface StatusView {
  devices: AdminDevice[];
  sessions: AdminSession[];
  spool: SpoolUsage;
  http: string;
  udp: string;
  now: number;
}

export function renderStatusPage(v: StatusView): string {
  const e = escapeHtml;
  const connected = v.devices.filter((d) => d.connected).length;
  const active = v.sessions.filter((s) => s.state === "active").length;
  const deviceRows = v.devices
    .map(
      (d) =>
        `<tr><td>${e(d.name)}</td><td><code>${e(d.id)}</code></td><td>${d.policy}</td>` +
        `<td>${d.registration ? e(`${d.registration.address}:${d.registration.port}`) : ""}</td>` +
        `<td>${d.keepalive ? e(`${d.keepalive.address}:${d.keepalive.port}`) : ""}</td>` +
        `<td>${time(d.keepalive?.at)}</td><td class="${d.connected ? "up" : "down"}">${d.connected ? "connected" : "-"}</td></tr>`,
    )
    .join("\n");
  const sessionRows = v.sessions
    .map(
      (s) =>
        `<tr><td><code>${e(s.id)}</code></td><td>${e(s.caller.name)}</td><td>${e(s.callee.name)}</td>` +
        `<td>${s.mode}</td><td>${s.state}</td><td>${time(s.startedAt)}</td><td>${time(s.expiresAt)}</td>` +
        `<td>${s.extensions}</td><td>${e(s.reason ?? "")}</td><td>${s.bytesRelayNode}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pvrlink control node</title>
<meta http-equiv="refresh" content="10">
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}.up{color:#070}.down{color:#999}</style></head>
<body><h1>pvrlink control node</h1>
<p>HTTP ${e(v.http)} · UDP ${e(v.udp)} · ${time(v.now)}</p>
<p>${v.devices.length} devices, ${connected} connected · ${active} active sessions · spool ${v.spool.files} files, ${v.spool.bytes} bytes</p>
<h2>Devices</h2>
<table><tr><th>name</th><th>id</th><th>policy</th><th>registered</th><th>keepalive from</th><th>last keepalive</th><th>state</th></tr>
${deviceRows}</table>
<h2>Sessions</h2>
<table><tr><th>id</th><th>caller</th><th>callee</th><th>mode</th><th>state</th><th>started</th><th>lease ends</th><th>ext.</th><th>reason</th><th>relayed bytes</th></tr>
${sessionRows}</table>
</body></html>`;
}

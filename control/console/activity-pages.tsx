/** @module Console pages for what moves: live sessions with transfer progress, the spool, and the accounting log. */
import type {
  AccountingEntry,
  AccountingReport,
  AdminDevice,
  AdminSession,
  GroupResponse,
} from "../../protocol/api-types.ts";
import type { AdminSpoolItem } from "../ops/admin-ops-routes.ts";
import { DangerButton, TableHead } from "./console-parts.tsx";
import { formatBytes, formatDuration, formatRelative, formatTime } from "./human-units.ts";

function Progress(p: { item: AdminSpoolItem }) {
  const pct = Math.floor((100 * p.item.received) / p.item.size);
  return (
    <span data-transfer={p.item.id} data-percent={String(pct)}>
      <progress max={p.item.size} value={p.item.received} /> {pct}% · {formatBytes(p.item.received)} of{" "}
      {formatBytes(p.item.size)}
      {p.item.complete ? " · complete" : ""}
    </span>
  );
}

/** What the peers reported at a session's end (each reports its own count; the larger one is shown). */
export function reportedBytes(
  rows: readonly AccountingEntry[],
): Map<string, { direct: number; relay: number }> {
  const out = new Map<string, { direct: number; relay: number }>();
  for (const r of rows) {
    const peers = [r.caller, r.callee].filter((p) => p !== null);
    out.set(r.sessionId, {
      direct: Math.max(0, ...peers.map((p) => p.bytesDirect)),
      relay: Math.max(0, ...peers.map((p) => p.bytesRelay)),
    });
  }
  return out;
}

/** True when both peers reported and their byte counts differ: the page marks it, it never averages it. */
export function peersDisagree(r: AccountingEntry): boolean {
  return (
    r.caller !== null &&
    r.callee !== null &&
    (r.caller.bytesDirect !== r.callee.bytesDirect || r.caller.bytesRelay !== r.callee.bytesRelay)
  );
}

function PeerReportCell(p: { label: string; report: AccountingReport | null }) {
  const r = p.report;
  if (r === null)
    return (
      <td data-label={p.label} class="muted">
        not reported
      </td>
    );
  return (
    <td data-label={p.label} title={r.note ?? undefined}>
      direct {formatBytes(r.bytesDirect)}
      {r.directPath ? ` (${r.directPath})` : ""} · relayed {formatBytes(r.bytesRelay)}
      {r.reason ? ` · ${r.reason}` : ""}
    </td>
  );
}

export function SessionsPage(p: {
  sessions: AdminSession[];
  spool: AdminSpoolItem[];
  reported: Map<string, { direct: number; relay: number }>;
  now: number;
}) {
  const active = p.sessions.filter((s) => s.state === "active");
  const ended = p.sessions.filter((s) => s.state === "ended").slice(0, 20);
  return (
    <>
      <h1>Sessions</h1>
      <div class="summary">
        <span>{active.length} active</span>
        <span>
          {formatBytes(active.reduce((n, s) => n + s.bytesRelayNode, 0))} relayed by this node (active)
        </span>
      </div>
      <h2>Live</h2>
      <table id="live-sessions">
        <TableHead columns={["Caller → callee", "Mode", "Started", "Lease", "Progress", "Bytes", ""]} />
        <tbody>
          {active.map((s) => {
            const transfers = p.spool.filter((i) => i.sessionId === s.id);
            return (
              <tr data-session={s.id}>
                <td data-label="Peers">
                  {s.caller.name} → {s.callee.name}
                </td>
                <td data-label="Mode">{s.mode}</td>
                <td data-label="Started">{formatRelative(s.startedAt, p.now)}</td>
                <td data-label="Lease">
                  ends {formatRelative(s.expiresAt, p.now)}
                  {s.extensions > 0 ? ` · ${s.extensions} extension(s)` : ""}
                </td>
                <td data-label="Progress">
                  {transfers.length === 0 ? (
                    <span class="muted">direct (peers report bytes at the end)</span>
                  ) : null}
                  {transfers.map((i) => (
                    <div>
                      <Progress item={i} />
                    </div>
                  ))}
                </td>
                <td data-label="Bytes">relayed {formatBytes(s.bytesRelayNode)} · direct reported at end</td>
                <td>
                  <DangerButton
                    action={`/console/sessions/${s.id}/end`}
                    confirm={"End this session? Both recorders are told."}
                    label="End"
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {active.length === 0 ? <p class="muted">No live sessions.</p> : null}
      <h2>Recently ended</h2>
      <table id="ended-sessions">
        <TableHead columns={["Caller → callee", "Mode", "Started", "Reason", "Direct", "Relayed"]} />
        <tbody>
          {ended.map((s) => (
            <tr data-session={s.id}>
              <td data-label="Peers">
                {s.caller.name} → {s.callee.name}
              </td>
              <td data-label="Mode">{s.mode}</td>
              <td data-label="Started">{formatTime(s.startedAt)}</td>
              <td data-label="Reason">{s.reason ?? ""}</td>
              <td data-label="Direct">{formatBytes(p.reported.get(s.id)?.direct ?? 0)}</td>
              <td data-label="Relayed">
                {formatBytes(Math.max(s.bytesRelayNode, p.reported.get(s.id)?.relay ?? 0))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function SpoolPage(p: { items: AdminSpoolItem[]; now: number }) {
  return (
    <>
      <h1>Spool</h1>
      <div class="summary">
        <span>{p.items.length} items</span>
        <span>{formatBytes(p.items.reduce((n, i) => n + i.received, 0))} held</span>
      </div>
      <table id="spool">
        <TableHead columns={["Sender", "Callee", "Kind", "Size", "Received", "Age", "Expires", ""]} />
        <tbody>
          {p.items.map((i) => (
            <tr data-item={i.id}>
              <td data-label="Sender">{i.sender.name ?? i.sender.id}</td>
              <td data-label="Callee">{i.recipient.name ?? i.recipient.id}</td>
              <td data-label="Kind">{i.kind === "store" ? "store-and-forward" : "relay"}</td>
              <td data-label="Size">{formatBytes(i.size)}</td>
              <td data-label="Received">
                <Progress item={i} />
              </td>
              <td data-label="Age">{formatDuration(p.now - i.createdAt)}</td>
              <td data-label="Expires" title={formatTime(i.expiresAt)}>
                {formatRelative(i.expiresAt, p.now)}
              </td>
              <td>
                <DangerButton
                  action={`/console/spool/${i.id}/delete`}
                  confirm={"Delete this item? The callee will not get it."}
                  label="Delete"
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.items.length === 0 ? <p class="muted">The spool is empty.</p> : null}
    </>
  );
}

export interface AccountingQuery {
  device: string;
  from: string;
  to: string;
}

export function AccountingPage(p: {
  rows: AccountingEntry[];
  devices: AdminDevice[];
  q: AccountingQuery;
  csvHref: string;
}) {
  const name = (id: string) => p.devices.find((d) => d.id === id)?.name ?? id;
  return (
    <>
      <h1>Accounting</h1>
      <form method="get" action="/console/accounting" class="filters">
        <label>
          Device
          <select name="device">
            <option value="">all devices</option>
            {p.devices.map((d) => (
              <option value={d.id} selected={d.id === p.q.device}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          From (UTC)
          <input type="datetime-local" name="from" value={p.q.from} />
        </label>
        <label>
          To (UTC)
          <input type="datetime-local" name="to" value={p.q.to} />
        </label>
        <button type="submit" class="secondary">
          Search
        </button>
        <a href={p.csvHref} id="csv">
          Export CSV
        </a>
      </form>
      <table id="accounting">
        <TableHead
          columns={[
            "Ended",
            "Caller → callee",
            "Duration",
            "Reason",
            "Ended by",
            "Relayed (node)",
            "Caller reported",
            "Callee reported",
          ]}
        />
        <tbody>
          {p.rows.map((r) => (
            <tr data-session={r.sessionId} data-disagree={peersDisagree(r) ? "true" : undefined}>
              <td data-label="Ended">{formatTime(r.endedAt)}</td>
              <td data-label="Peers">
                {name(r.callerId)} → {name(r.calleeId)}
              </td>
              <td data-label="Duration">{formatDuration(r.durationMs)}</td>
              <td data-label="Reason">
                {r.reason}
                {r.revokedAt !== null ? " · revoked" : ""}
              </td>
              <td data-label="Ended by">{r.endedBy.startsWith("dev_") ? name(r.endedBy) : r.endedBy}</td>
              <td data-label="Relayed (node)">{formatBytes(r.bytesRelayNode)}</td>
              <PeerReportCell label="Caller reported" report={r.caller} />
              <PeerReportCell label="Callee reported" report={r.callee} />
            </tr>
          ))}
        </tbody>
      </table>
      {p.rows.some(peersDisagree) ? (
        <p class="muted">
          Marked rows: the caller's and the callee's byte counts differ; both are kept as reported.
        </p>
      ) : null}
      {p.rows.length === 0 ? <p class="muted">No entries match.</p> : null}
    </>
  );
}

export function ListsPage(p: {
  devices: Array<AdminDevice & { entries: string[] }>;
  groups: GroupResponse[];
}) {
  const name = (id: string) => p.devices.find((d) => d.id === id)?.name ?? id;
  return (
    <>
      <h1>Allow-lists &amp; groups</h1>
      <p class="muted">
        Node-held lists are edited on each device's page; device-held lists live on the recorder.
      </p>
      <h2>Allow-lists</h2>
      <table id="allow-lists">
        <TableHead columns={["Device", "Policy", "Entries"]} />
        <tbody>
          {p.devices.map((d) => (
            <tr>
              <td data-label="Device">
                <a href={`/console/devices/${d.id}`}>{d.name}</a>
              </td>
              <td data-label="Policy">{d.policy === "node" ? "node-held" : "device-held"}</td>
              <td data-label="Entries">
                {d.policy === "device" ? (
                  <span class="muted">held by the device</span>
                ) : (
                  d.entries.join(", ") || "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Groups</h2>
      <table id="groups">
        <TableHead columns={["Group", "Owner", "Members"]} />
        <tbody>
          {p.groups.map((g) => (
            <tr>
              <td data-label="Group">@{g.name}</td>
              <td data-label="Owner">{name(g.owner)}</td>
              <td data-label="Members">{g.members.join(", ") || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.groups.length === 0 ? <p class="muted">No groups.</p> : null}
    </>
  );
}

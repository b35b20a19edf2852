/** @module Console pages for devices: the searchable list with enrollment, one device's detail and actions, and the enrollment token with its QR code. */
import { raw } from "hono/html";
import type { AdminDevice } from "../../protocol/api-types.ts";
import type { AdminDeviceDetail } from "../ops/admin-ops-routes.ts";
import { DangerButton, TableHead } from "./console-parts.tsx";
import { formatRelative, formatTime } from "./human-units.ts";

export function deviceState(d: AdminDevice): "disabled" | "connected" | "offline" {
  return d.disabledAt !== null ? "disabled" : d.connected ? "connected" : "offline";
}

const address = (d: AdminDevice) =>
  d.keepalive
    ? `${d.keepalive.address}:${d.keepalive.port}`
    : d.registration
      ? `${d.registration.address}:${d.registration.port}`
      : "—";

export function DevicesPage(p: { devices: AdminDevice[]; q: string; now: number }) {
  const q = p.q.toLowerCase();
  const shown = p.devices.filter(
    (d) => !q || d.name.toLowerCase().includes(q) || d.id.toLowerCase().includes(q),
  );
  const connected = p.devices.filter((d) => deviceState(d) === "connected").length;
  return (
    <>
      <h1>Devices</h1>
      <div class="summary">
        <span>{p.devices.length} enrolled</span>
        <span>{connected} connected</span>
        <span>{p.devices.filter((d) => d.disabledAt !== null).length} disabled</span>
      </div>
      <div class="filters">
        <form method="get" action="/console/devices" class="filters">
          <label>
            Search
            <input name="q" value={p.q} placeholder="name or id" />
          </label>
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        <form method="post" action="/console/devices/enroll">
          <button type="submit" id="enroll">
            Enroll a device
          </button>
        </form>
      </div>
      <table id="devices">
        <TableHead columns={["Name", "State", "Last seen", "Address", "Policy", "Key", "ID"]} />
        <tbody>
          {shown.map((d) => (
            <tr data-device={d.id}>
              <td data-label="Name">
                <a href={`/console/devices/${d.id}`}>{d.name}</a>
              </td>
              <td data-label="State" class={`state-${deviceState(d)}`}>
                {deviceState(d)}
              </td>
              <td data-label="Last seen" title={d.keepalive ? formatTime(d.keepalive.at) : undefined}>
                {d.keepalive ? formatRelative(d.keepalive.at, p.now) : "never"}
              </td>
              <td data-label="Address" class="mono">
                {address(d)}
              </td>
              <td data-label="Policy">{d.policy === "node" ? "node-held" : "device-held"}</td>
              <td data-label="Key" class="mono" title={d.keyFingerprint ?? "no identity key published yet"}>
                {d.keyFingerprint === null ? "—" : `${d.keyFingerprint.slice(0, 11)}…`}
              </td>
              <td data-label="ID">
                <code>{d.id}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 ? <p class="muted">No devices{q ? ` match “${p.q}”` : ""}.</p> : null}
    </>
  );
}

export function DevicePage(p: { d: AdminDeviceDetail; now: number }) {
  const d = p.d;
  const state = deviceState(d);
  return (
    <>
      <h1>
        {d.name} <span class={`state-${state}`}>({state})</span>
      </h1>
      <div class="card">
        <table>
          <tbody>
            <tr>
              <th>ID</th>
              <td>
                <code>{d.id}</code>
              </td>
            </tr>
            <tr>
              <th>Enrolled</th>
              <td>{formatTime(d.createdAt)}</td>
            </tr>
            <tr>
              <th>Last keepalive</th>
              <td>
                {d.keepalive
                  ? `${formatRelative(d.keepalive.at, p.now)} from ${d.keepalive.address}:${d.keepalive.port}`
                  : "never"}
              </td>
            </tr>
            <tr>
              <th>Registered address</th>
              <td>
                {d.registration
                  ? `${d.registration.address}:${d.registration.port} (${formatRelative(d.registration.at, p.now)})`
                  : "—"}
              </td>
            </tr>
            <tr>
              <th>Identity key</th>
              <td>
                {d.keyFingerprint === null
                  ? "none published yet (the recorder publishes it when its daemon starts)"
                  : d.keyFingerprint}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <h2>Actions</h2>
      <div class="actions">
        <form method="post" action={`/console/devices/${d.id}/rename`} class="actions">
          <input name="name" value={d.name} aria-label="New name" required maxlength={64} />
          <button type="submit" class="secondary">
            Rename
          </button>
        </form>
        <form
          method="post"
          action={`/console/devices/${d.id}/${state === "disabled" ? "enable" : "disable"}`}
        >
          <button type="submit" class="secondary">
            {state === "disabled" ? "Enable" : "Disable"}
          </button>
        </form>
        <DangerButton
          action={`/console/devices/${d.id}/remove`}
          confirm={`Remove ${d.name}? It must enroll again.`}
          label="Remove"
        />
      </div>
      <h2>Allow-list</h2>
      {d.allowList.policy === "device" ? (
        <p class="muted">
          This device holds its own allow-list (policy device); the node keeps no copy to show or edit.
        </p>
      ) : (
        <form method="post" action={`/console/devices/${d.id}/allow-list`}>
          <p class="muted">One device name or @group per line; saving replaces the list.</p>
          <textarea name="entries" rows={6} cols={40}>
            {d.allowList.entries.join("\n")}
          </textarea>
          <div>
            <button type="submit">Save allow-list</button>
          </div>
        </form>
      )}
    </>
  );
}

export function EnrollPage(p: {
  token: string;
  expiresAt: number;
  nodeUrl: string;
  udp: string;
  qrSvg: string;
  now: number;
}) {
  const command = `pvrlink recorder enroll --node ${p.nodeUrl} --udp ${p.udp} --token ${p.token} --name NAME`;
  return (
    <>
      <h1>Enroll a device</h1>
      <div class="card">
        <p>
          A one-time enrollment token, valid until {formatTime(p.expiresAt)} (
          {formatRelative(p.expiresAt, p.now)}). It is shown once: copy it now or scan the code with the
          recorder's setup app.
        </p>
        <code class="token" id="enrollment-token">
          {p.token}
        </code>
        <p>On the recorder:</p>
        <code class="token">{command}</code>
        <div class="qr" role="img" aria-label="QR code of the enrollment link">
          {raw(p.qrSvg)}
        </div>
        <p class="muted">
          The QR code holds <code>{enrollUri(p.nodeUrl, p.udp, p.token)}</code>.
        </p>
      </div>
      <p>
        <a href="/console/devices">Back to devices</a>
      </p>
    </>
  );
}

/** What the QR code carries: everything `pvrlink recorder enroll` needs but the device's chosen name. */
export function enrollUri(nodeUrl: string, udp: string, token: string): string {
  const q = new URLSearchParams({ node: nodeUrl, udp, token });
  return `pvrlink://enroll?${q.toString()}`;
}

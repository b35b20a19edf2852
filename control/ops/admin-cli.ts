/** @module `pvrlink control devices|sessions|spool|token create`: the operator's actions on a running node through its admin API. */
import { EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import type { AdminDevice, AdminSession } from "../../protocol/api-types.ts";
import { formatBytes, formatRelative } from "../console/human-units.ts";
import type { AdminSpoolItem } from "./admin-ops-routes.ts";

/** Usage lines of these commands, for `pvrlink control --help`. */
export const ADMIN_CLI_USAGE = `  pvrlink control devices list|show|disable|enable|remove [ID|NAME] [--json] [--node URL]
  pvrlink control sessions list|end [ID] [--active] [--reason TEXT] [--json] [--node URL]
  pvrlink control spool list|remove [ID] [--json] [--node URL]
  pvrlink control token create [--ttl SECONDS] [--node URL]`;

/** One paragraph per command, each starting with its name (cli/subcommand-help.ts cuts them out). */
export const ADMIN_CLI_DESCRIPTIONS = `devices      Lists enrolled devices (state, last seen, address, policy), shows one as JSON, disables one
             (its secret stops authenticating, its sessions end), enables or removes one; by id or name.
sessions     Lists sessions (--active: live ones only), or ends one: both recorders get an end trigger.
spool        Lists relay and store-and-forward items (sender, callee, size, progress, age, expiry), or
             removes one.
token create Mints a one-time enrollment token on the running node.
             These act on a running node through its admin API: --node URL (default: $PVRLINK_NODE, the
             node serving DATA, or the config's address) with the token from $PVRLINK_ADMIN_TOKEN, the
             config, or DATA/admin-token.`;

const COMMON = {
  config: { type: "string" },
  data: { type: "string" },
  node: { type: "string" },
  json: { type: "boolean" },
  active: { type: "boolean" },
  reason: { type: "string" },
  ttl: { type: "string" },
} as const;

/** The node to talk to and the admin token to use. */
export interface Target {
  base: string;
  token: string;
  /** fetch that trusts the node as recorders do: its pinned certificate, the system CAs, or plain HTTP. */
  fetch: typeof fetch;
}

/** Resolves --config/--data/--node into a Target (control/admin-target.ts reads the configuration files). */
export type ResolveTarget = (values: { config?: string; data?: string; node?: string }) => Target;

/** One admin API call; a refusal becomes an InputError carrying the node's stable code. */
async function call<T>(t: Target, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await t.fetch(`${t.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${t.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new InputError(
      `Cannot reach the node at ${t.base}: ${(err as Error).message}`,
      "ERR_NODE_UNREACHABLE",
      {
        cause: err,
      },
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = text.slice(0, 200);
    try {
      const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
      code = e.code;
      message = e.message;
    } catch {
      // not the node's JSON error shape; the status says enough
    }
    throw new InputError(`${method} ${path}: ${message}`, code);
  }
  return (text ? JSON.parse(text) : null) as T;
}

/** Fixed-width columns, for terminals; --json prints the API's JSON instead. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

/** Accepts a device id or name; names are looked up in the list (the API addresses devices by id). */
async function deviceId(t: Target, ref: string | undefined): Promise<string> {
  if (!ref) throw new UsageError("missing device ID or NAME");
  if (ref.startsWith("dev_")) return ref;
  const all = await call<AdminDevice[]>(t, "GET", "/admin/devices");
  const hit = all.find((d) => d.name.toLowerCase() === ref.toLowerCase());
  if (!hit) throw new InputError(`No device named '${ref}'`, "device_not_found");
  return hit.id;
}

const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));

export async function devicesCommand(args: string[], target: ResolveTarget): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON);
  const [action, ref, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const t = target(values);
  const now = Date.now();
  switch (action) {
    case "list": {
      const all = await call<AdminDevice[]>(t, "GET", "/admin/devices");
      if (values.json) out(all);
      else {
        const rows = all.map((d) => [
          d.name,
          d.id,
          d.disabledAt !== null ? "disabled" : d.connected ? "connected" : "offline",
          d.keepalive ? formatRelative(d.keepalive.at, now) : "never",
          d.keepalive ? `${d.keepalive.address}:${d.keepalive.port}` : "",
          d.policy,
        ]);
        console.log(table(["NAME", "ID", "STATE", "LAST SEEN", "ADDRESS", "POLICY"], rows));
      }
      return EXIT_OK;
    }
    case "show":
      out(await call(t, "GET", `/admin/devices/${await deviceId(t, ref)}`));
      return EXIT_OK;
    case "disable":
    case "enable":
      out(await call(t, "POST", `/admin/devices/${await deviceId(t, ref)}/${action}`));
      return EXIT_OK;
    case "remove": {
      const id = await deviceId(t, ref);
      await call(t, "DELETE", `/admin/devices/${id}`);
      console.log(`removed ${id}`);
      return EXIT_OK;
    }
    default:
      throw new UsageError(`devices: unknown action '${action ?? ""}' (list, show, disable, enable, remove)`);
  }
}

export async function sessionsCommand(args: string[], target: ResolveTarget): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON);
  const [action, id] = positionals;
  const t = target(values);
  if (action === "list") {
    const all = await call<AdminSession[]>(
      t,
      "GET",
      `/admin/sessions${values.active ? "?state=active" : ""}`,
    );
    if (values.json) out(all);
    else {
      const now = Date.now();
      const rows = all.map((s) => [
        s.id,
        s.caller.name,
        s.callee.name,
        s.mode,
        s.state,
        s.state === "active" ? formatRelative(s.expiresAt, now) : "",
        formatBytes(s.bytesRelayNode),
      ]);
      console.log(table(["ID", "CALLER", "CALLEE", "MODE", "STATE", "LEASE ENDS", "RELAYED"], rows));
    }
    return EXIT_OK;
  }
  if (action === "end") {
    if (!id) throw new UsageError("sessions end needs a session ID");
    out(
      await call(t, "POST", `/admin/sessions/${encodeURIComponent(id)}/end`, {
        reason: values.reason ?? "admin",
      }),
    );
    return EXIT_OK;
  }
  throw new UsageError(`sessions: unknown action '${action ?? ""}' (list, end)`);
}

export async function spoolCommand(args: string[], target: ResolveTarget): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON);
  const [action, id] = positionals;
  const t = target(values);
  if (action === "list") {
    const items = await call<AdminSpoolItem[]>(t, "GET", "/admin/spool/items");
    if (values.json) out(items);
    else {
      const now = Date.now();
      const rows = items.map((i) => [
        i.id,
        i.sender.name ?? i.sender.id,
        i.recipient.name ?? i.recipient.id,
        formatBytes(i.size),
        i.complete ? "complete" : `${Math.floor((100 * i.received) / i.size)}%`,
        formatRelative(i.createdAt, now),
        formatRelative(i.expiresAt, now),
      ]);
      console.log(table(["ID", "SENDER", "CALLEE", "SIZE", "STATE", "AGE", "EXPIRES"], rows));
    }
    return EXIT_OK;
  }
  if (action === "remove") {
    if (!id) throw new UsageError("spool remove needs an item ID");
    await call(t, "DELETE", `/admin/spool/items/${encodeURIComponent(id)}`);
    console.log(`removed ${id}`);
    return EXIT_OK;
  }
  throw new UsageError(`spool: unknown action '${action ?? ""}' (list, remove)`);
}

/** `token create`: a one-time enrollment token minted by the running node. */
export async function tokenCreateCommand(args: string[], target: ResolveTarget): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON);
  if (positionals.length > 0)
    throw new UsageError(`token create takes no arguments, got '${positionals[0]}'`);
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0))
    throw new UsageError(`--ttl '${values.ttl}' is not a positive integer`);
  out(
    await call(target(values), "POST", "/admin/enrollment-tokens", ttl === undefined ? {} : { ttlSec: ttl }),
  );
  return EXIT_OK;
}

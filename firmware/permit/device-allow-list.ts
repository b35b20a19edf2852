/** @module The device-held allow-list (policy "device"): names and local @groups, kept in the recorder's data dir. */
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

export const ALLOW_LIST_FILE = "allow-list.json";

/** node: the node holds the list; device: this recorder judges each caller; list: it sends its list per query. */
export type PermitPolicy = "node" | "device" | "list";

/** The file's shape: who may call under policy "device", and which policy this recorder last set. */
export interface AllowListState {
  policy: PermitPolicy;
  /** Lower-cased device names and `@group` references. */
  entries: string[];
  /** Local groups: lower-cased group name (without "@") -> lower-cased member names. */
  groups: Record<string, string[]>;
}

/**
 * Names compare case-insensitively, as on the node (it lower-cases them): "Grandma" and "grandma" are one
 * device. Control characters are refused so a name cannot forge log lines.
 */
export function normalizeName(raw: string, what = "name"): string {
  const n = raw.trim().toLowerCase();
  if (n.length === 0 || n.length > 128 || /\p{Cc}/u.test(n)) {
    throw new InputError(
      `Cannot use ${what} '${raw.slice(0, 40)}': 1-128 printable characters`,
      "ERR_PERMIT_NAME",
    );
  }
  return n;
}

/** A group name: letters, digits, '.', '_', '-'; stored without its leading '@'. */
export function normalizeGroup(raw: string): string {
  const n = raw.trim().toLowerCase().replace(/^@/, "");
  if (!/^[a-z0-9._-]{1,64}$/.test(n)) {
    throw new InputError(`Cannot use group '${raw.slice(0, 40)}': 1-64 of a-z 0-9 . _ -`, "ERR_PERMIT_GROUP");
  }
  return n;
}

/** An allow-list entry: a device name, or "@group". */
export function normalizeEntry(raw: string): string {
  return raw.trim().startsWith("@") ? `@${normalizeGroup(raw)}` : normalizeName(raw);
}

/**
 * Local groups live only on this recorder: `@family` in the list matches any caller whose name is a member of
 * the local group "family". Groups are resolved here, at verdict time, so the node never learns who is in them;
 * an entry naming a group that does not exist matches nobody. Read fresh from the file on every verdict, so
 * `pvrlink permit` edits take effect at once in a running daemon.
 */
export class DeviceAllowList {
  readonly path: string;
  /** Entries from the config file's `allow` key: always in force, not editable with `permit`. */
  readonly fixed: string[];

  constructor(dataDir: string, fixed: readonly string[] = []) {
    this.path = join(dataDir, ALLOW_LIST_FILE);
    this.fixed = fixed.map(normalizeEntry);
  }

  read(defaultPolicy: PermitPolicy = "node"): AllowListState {
    let body: unknown;
    try {
      body = readJsonFile(this.path);
    } catch (err) {
      throw new InputError(`Cannot read ${this.path}: ${(err as Error).message}`, "ERR_PERMIT_FILE");
    }
    if (body === undefined) return { policy: defaultPolicy, entries: [], groups: {} };
    const b = body as Partial<AllowListState>;
    const okGroups =
      typeof b.groups === "object" &&
      b.groups !== null &&
      Object.values(b.groups).every((m) => Array.isArray(m) && m.every((x) => typeof x === "string"));
    if (
      (b.policy !== "node" && b.policy !== "device" && b.policy !== "list") ||
      !Array.isArray(b.entries) ||
      !b.entries.every((e) => typeof e === "string") ||
      !okGroups
    ) {
      throw new InputError(`Cannot read ${this.path}: not an allow-list file`, "ERR_PERMIT_FILE");
    }
    return { policy: b.policy, entries: b.entries, groups: b.groups as Record<string, string[]> };
  }

  write(s: AllowListState): void {
    const entries = [...new Set(s.entries)].sort();
    const groups = Object.fromEntries(
      Object.entries(s.groups)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([g, m]) => [g, [...new Set(m)].sort()]),
    );
    writeJsonAtomic(this.path, { policy: s.policy, entries, groups }, 0o600);
  }

  /** Applies fn to the stored state and writes the result; returns it. */
  update(
    fn: (s: AllowListState) => AllowListState | undefined,
    defaultPolicy: PermitPolicy = "node",
  ): AllowListState {
    const s = this.read(defaultPolicy);
    const next = fn(s) ?? s;
    this.write(next);
    return this.read(defaultPolicy);
  }

  /** What policy "list" sends the node for one query (seed B embodiment 1): every entry, and the local groups. */
  snapshot(): { entries: string[]; groups: Record<string, string[]> } {
    const s = this.read();
    return { entries: [...new Set([...this.fixed, ...s.entries])].sort(), groups: s.groups };
  }

  /** The verdict for a caller's name: allowed when named, or a member of a listed local group. */
  permits(callerName: string): boolean {
    const name = callerName.trim().toLowerCase();
    const s = this.read();
    for (const e of [...this.fixed, ...s.entries]) {
      if (e === name) return true;
      if (e.startsWith("@") && (s.groups[e.slice(1)] ?? []).includes(name)) return true;
    }
    return false;
  }
}

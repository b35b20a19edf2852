/** @module Allow-lists (seed A FIG. 3/4: the permitted-terminal table), per-device policies and groups. */
import type { Database } from "bun:sqlite";
import type { AllowListResponse, AllowPolicy, GroupResponse } from "../../protocol/api-types.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import { DEVICE_NAME, nameKey } from "./device-store.ts";

/** Group names: 1-64 of letters, digits and "._-", referenced in allow-lists as "@name". */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The prefix marking an allow-list entry as a group reference. */
export const GROUP_PREFIX = "@";

/** Normalizes one allow-list entry: a device name or "@group", lower-cased; anything else is a 400. */
export function normalizeEntry(entry: unknown, field: string): string {
  if (typeof entry !== "string") throw badRequest(field, "entries must be strings");
  const ok = entry.startsWith(GROUP_PREFIX) ? GROUP_NAME.test(entry.slice(1)) : DEVICE_NAME.test(entry);
  if (!ok) throw badRequest(field, `'${entry.slice(0, 70)}' is neither a device name nor @group`);
  return nameKey(entry);
}

export function checkGroupName(name: unknown, field = "name"): string {
  if (typeof name !== "string" || !GROUP_NAME.test(name)) {
    throw badRequest(field, "must be 1-64 of A-Z a-z 0-9 . _ - (without the @)");
  }
  return nameKey(name);
}

export interface AllowListEdit {
  create?: string[] | undefined;
  add?: string[] | undefined;
  delete?: string[] | undefined;
}

export class AllowListStore {
  constructor(
    private readonly db: Database,
    private readonly maxEntries: number,
  ) {}

  policy(deviceId: string): AllowPolicy {
    const row = this.db
      .query<{ policy: AllowPolicy }, [string]>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM list_policy l WHERE l.device_id = d.id) THEN 'list' ELSE d.policy END
         AS policy FROM devices d WHERE d.id = ?`,
      )
      .get(deviceId);
    return row?.policy ?? "node";
  }

  list(deviceId: string): AllowListResponse {
    const entries = this.db
      .query<{ entry: string }, [string]>("SELECT entry FROM allow_entries WHERE owner_id = ? ORDER BY entry")
      .all(deviceId)
      .map((r) => r.entry);
    return { policy: this.policy(deviceId), entries };
  }

  /**
   * Applies one REGISTER (seed A S1000-S1005): Create replaces the whole list, then Add, then Delete, all in
   * one transaction, so a failed request changes nothing (S1005: N) and the next query sees the new list.
   */
  edit(deviceId: string, e: AllowListEdit): AllowListResponse {
    const policy = this.policy(deviceId);
    if (policy !== "node") {
      throw new ApiError(
        409,
        "policy_is_device",
        `Cannot edit the allow-list: this device holds it (policy ${policy})`,
      );
    }
    const create = e.create?.map((x, i) => normalizeEntry(x, `create[${i}]`));
    const add = e.add?.map((x, i) => normalizeEntry(x, `add[${i}]`));
    const del = e.delete?.map((x, i) => normalizeEntry(x, `delete[${i}]`));
    const insert = this.db.prepare("INSERT OR IGNORE INTO allow_entries (owner_id, entry) VALUES (?, ?)");
    const remove = this.db.prepare("DELETE FROM allow_entries WHERE owner_id = ? AND entry = ?");
    this.db.transaction(() => {
      if (create) {
        this.db.run("DELETE FROM allow_entries WHERE owner_id = ?", [deviceId]);
        for (const x of create) insert.run(deviceId, x);
      }
      for (const x of add ?? []) insert.run(deviceId, x);
      for (const x of del ?? []) remove.run(deviceId, x);
      const n = this.db
        .query<{ n: number }, [string]>("SELECT count(*) AS n FROM allow_entries WHERE owner_id = ?")
        .get(deviceId)!.n;
      if (n > this.maxEntries)
        throw badRequest("add", `the list would hold ${n} entries, above ${this.maxEntries}`);
    })();
    return this.list(deviceId);
  }

  /** Switching to "device" drops the node's copy: under that policy the node keeps no list (seed B). */
  setPolicy(deviceId: string, policy: AllowPolicy): AllowListResponse {
    this.db.transaction(() => {
      // "list" is stored as 'device' plus a list_policy row: both keep no copy of the list on the node.
      this.db.run("UPDATE devices SET policy = ? WHERE id = ?", [
        policy === "node" ? "node" : "device",
        deviceId,
      ]);
      if (policy === "list")
        this.db.run("INSERT OR IGNORE INTO list_policy (device_id) VALUES (?)", [deviceId]);
      else this.db.run("DELETE FROM list_policy WHERE device_id = ?", [deviceId]);
      if (policy !== "node") this.db.run("DELETE FROM allow_entries WHERE owner_id = ?", [deviceId]);
    })();
    return this.list(deviceId);
  }

  /**
   * Seed A S1202-S1203: does callee's list name the caller, or a group of the callee's own that the caller
   * belongs to? "@name" resolves only in the list owner's namespace (issue 21 item 1): a group of that name
   * created by anyone else, before or after, never grants anything in this list.
   */
  permits(calleeId: string, callerName: string): boolean {
    const key = nameKey(callerName);
    const row = this.db
      .query<{ one: number }, [string, string]>(
        `SELECT 1 AS one FROM allow_entries WHERE owner_id = ?1 AND entry = ?2
         UNION ALL
         SELECT 1 FROM allow_entries a
           JOIN groups g ON g.name_key = substr(a.entry, 2) AND g.owner_id = a.owner_id
           JOIN group_members m ON m.group_key = g.name_key
           WHERE a.owner_id = ?1 AND a.entry >= '@' AND a.entry < 'A' AND m.member_key = ?2
         LIMIT 1`,
      )
      .get(calleeId, key);
    return row !== null;
  }

  createGroup(ownerId: string, name: string, now = Date.now()): GroupResponse {
    const key = checkGroupName(name);
    const bound = this.db
      .query<{ owner_id: string }, [string]>("SELECT owner_id FROM group_names WHERE name_key = ?")
      .get(key);
    // A name once bound stays its first owner's, even after the group is deleted (issue 21 item 1).
    if (bound && bound.owner_id !== ownerId) {
      throw new ApiError(409, "group_exists", `Cannot create group '${name}': the name is taken`);
    }
    try {
      this.db.run("INSERT INTO groups (name_key, owner_id, created_at) VALUES (?, ?, ?)", [
        key,
        ownerId,
        now,
      ]);
    } catch (err) {
      if (String((err as Error).message).includes("UNIQUE")) {
        throw new ApiError(409, "group_exists", `Cannot create group '${name}': the name is taken`);
      }
      throw err;
    }
    return { name: key, owner: ownerId, members: [] };
  }

  /** Owners and members may see a group; to anyone else it does not exist. */
  getGroup(viewerId: string, viewerName: string, name: string): GroupResponse {
    const key = checkGroupName(name);
    const g = this.groupRow(key);
    if (!g || (g.owner_id !== viewerId && !this.isMember(key, viewerName))) {
      throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    }
    return { name: key, owner: g.owner_id, members: this.members(key) };
  }

  editMembers(
    ownerId: string,
    ownerName: string,
    name: string,
    e: { add?: string[] | undefined; delete?: string[] | undefined },
  ): GroupResponse {
    const key = checkGroupName(name);
    // Input is checked before any lookup, so a malformed request is a 400 whatever the group's state.
    const add = e.add?.map((x, i) => checkMember(x, `add[${i}]`));
    const del = e.delete?.map((x, i) => checkMember(x, `delete[${i}]`));
    const g = this.groupRow(key);
    if (!g || (g.owner_id !== ownerId && !this.isMember(key, ownerName))) {
      throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    }
    if (g.owner_id !== ownerId)
      throw new ApiError(403, "not_group_owner", `Only the owner edits group '${name}'`);
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO group_members (group_key, member_key) VALUES (?, ?)",
    );
    const remove = this.db.prepare("DELETE FROM group_members WHERE group_key = ? AND member_key = ?");
    this.db.transaction(() => {
      for (const m of add ?? []) insert.run(key, m);
      for (const m of del ?? []) remove.run(key, m);
      const n = this.db
        .query<{ n: number }, [string]>("SELECT count(*) AS n FROM group_members WHERE group_key = ?")
        .get(key)!.n;
      if (n > this.maxEntries)
        throw badRequest("add", `the group would hold ${n} members, above ${this.maxEntries}`);
    })();
    return { name: key, owner: g.owner_id, members: this.members(key) };
  }

  deleteGroup(ownerId: string, name: string): void {
    const key = checkGroupName(name);
    const g = this.groupRow(key);
    if (!g || g.owner_id !== ownerId) throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    this.db.run("DELETE FROM groups WHERE name_key = ?", [key]);
  }

  /** Every group with its owner and members (the operator's view). */
  allGroups(): GroupResponse[] {
    return this.db
      .query<{ name_key: string; owner_id: string }, []>(
        "SELECT name_key, owner_id FROM groups ORDER BY name_key",
      )
      .all()
      .map((g) => ({ name: g.name_key, owner: g.owner_id, members: this.members(g.name_key) }));
  }

  private groupRow(key: string): { owner_id: string } | null {
    return this.db
      .query<{ owner_id: string }, [string]>("SELECT owner_id FROM groups WHERE name_key = ?")
      .get(key);
  }

  private isMember(key: string, deviceName: string): boolean {
    return (
      this.db
        .query<{ one: number }, [string, string]>(
          "SELECT 1 AS one FROM group_members WHERE group_key = ? AND member_key = ?",
        )
        .get(key, nameKey(deviceName)) !== null
    );
  }

  private members(key: string): string[] {
    return this.db
      .query<{ m: string }, [string]>(
        "SELECT member_key AS m FROM group_members WHERE group_key = ? ORDER BY member_key",
      )
      .all(key)
      .map((r) => r.m);
  }
}

function checkMember(x: unknown, field: string): string {
  if (typeof x !== "string" || !DEVICE_NAME.test(x)) throw badRequest(field, "members must be device names");
  return nameKey(x);
}

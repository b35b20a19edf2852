/** @module Allow-lists (seed A FIG. 3/4: the permitted-terminal table), per-device policies and groups. */
import type { AllowListResponse, AllowPolicy, GroupResponse } from "../../protocol/api-types.ts";
import { ApiError, badRequest } from "../errors/api-error.ts";
import { DEVICE_NAME, nameKey } from "./device-store.ts";
import { PermissionCache } from "./permission-cache.ts";
import { isUniqueViolation, type SqlDriver, type SqlQueries } from "./sql-driver.ts";

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
  readonly #db: SqlDriver;
  readonly #maxEntries: number;
  readonly #verdicts: PermissionCache;
  constructor(db: SqlDriver, maxEntries: number) {
    this.#db = db;
    this.#verdicts = PermissionCache.of(db);
    this.#maxEntries = maxEntries;
  }

  async policy(deviceId: string): Promise<AllowPolicy> {
    const row = await this.#db.get<{ policy: AllowPolicy }>(
      `SELECT CASE WHEN EXISTS (SELECT 1 FROM list_policy l WHERE l.device_id = d.id) THEN 'list' ELSE d.policy END
       AS policy FROM devices d WHERE d.id = ?`,
      [deviceId],
    );
    return row?.policy ?? "node";
  }

  async list(deviceId: string): Promise<AllowListResponse> {
    const entries = (
      await this.#db.all<{ entry: string }>(
        "SELECT entry FROM allow_entries WHERE owner_id = ? ORDER BY entry",
        [deviceId],
      )
    ).map((r) => r.entry);
    return { policy: await this.policy(deviceId), entries };
  }

  /**
   * Applies one REGISTER (seed A S1000-S1005): Create replaces the whole list, then Add, then Delete, all in
   * one transaction, so a failed request changes nothing (S1005: N) and the next query sees the new list.
   */
  async edit(deviceId: string, e: AllowListEdit): Promise<AllowListResponse> {
    const policy = await this.policy(deviceId);
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
    const insert = (q: SqlQueries, x: string) =>
      q.run("INSERT INTO allow_entries (owner_id, entry) VALUES (?, ?) ON CONFLICT DO NOTHING", [
        deviceId,
        x,
      ]);
    const remove = (q: SqlQueries, x: string) =>
      q.run("DELETE FROM allow_entries WHERE owner_id = ? AND entry = ?", [deviceId, x]);
    await this.#db.transaction(async (tx) => {
      if (create) {
        await tx.run("DELETE FROM allow_entries WHERE owner_id = ?", [deviceId]);
        for (const x of create) await insert(tx, x);
      }
      for (const x of add ?? []) await insert(tx, x);
      for (const x of del ?? []) await remove(tx, x);
      const n = (await tx.get<{ n: number }>("SELECT count(*) AS n FROM allow_entries WHERE owner_id = ?", [
        deviceId,
      ]))!.n;
      if (n > this.#maxEntries)
        throw badRequest("add", `the list would hold ${n} entries, above ${this.#maxEntries}`);
    });
    this.#verdicts.clear();
    return this.list(deviceId);
  }

  /** Switching to "device" drops the node's copy: under that policy the node keeps no list (seed B). */
  async setPolicy(deviceId: string, policy: AllowPolicy): Promise<AllowListResponse> {
    await this.#db.transaction(async (tx) => {
      // "list" is stored as 'device' plus a list_policy row: both keep no copy of the list on the node.
      await tx.run("UPDATE devices SET policy = ? WHERE id = ?", [
        policy === "node" ? "node" : "device",
        deviceId,
      ]);
      if (policy === "list")
        await tx.run("INSERT INTO list_policy (device_id) VALUES (?) ON CONFLICT DO NOTHING", [deviceId]);
      else await tx.run("DELETE FROM list_policy WHERE device_id = ?", [deviceId]);
      if (policy !== "node") await tx.run("DELETE FROM allow_entries WHERE owner_id = ?", [deviceId]);
    });
    this.#verdicts.clear();
    return this.list(deviceId);
  }

  /**
   * Seed A S1202-S1203: does callee's list name the caller, or a group of the callee's own that the caller
   * belongs to? "@name" resolves only in the list owner's namespace (issue 21 item 1): a group of that name
   * created by anyone else, before or after, never grants anything in this list.
   */
  permits(calleeId: string, callerName: string): Promise<boolean> {
    const key = nameKey(callerName);
    return this.#verdicts.verdict(calleeId, key, () => this.#permitsStored(calleeId, key));
  }

  async #permitsStored(calleeId: string, key: string): Promise<boolean> {
    const row = await this.#db.get<{ one: number }>(
      `SELECT 1 AS one FROM allow_entries WHERE owner_id = ?1 AND entry = ?2
         UNION ALL
         SELECT 1 FROM allow_entries a
           JOIN groups g ON g.name_key = substr(a.entry, 2) AND g.owner_id = a.owner_id
           JOIN group_members m ON m.group_key = g.name_key
           WHERE a.owner_id = ?1 AND a.entry >= '@' AND a.entry < 'A' AND m.member_key = ?2
         LIMIT 1`,
      [calleeId, key],
    );
    return row !== null;
  }

  async createGroup(ownerId: string, name: string, now = Date.now()): Promise<GroupResponse> {
    const key = checkGroupName(name);
    const bound = await this.#db.get<{ owner_id: string }>(
      "SELECT owner_id FROM group_names WHERE name_key = ?",
      [key],
    );
    // A name once bound stays its first owner's, even after the group is deleted (issue 21 item 1).
    if (bound && bound.owner_id !== ownerId) {
      throw new ApiError(409, "group_exists", `Cannot create group '${name}': the name is taken`);
    }
    try {
      await this.#db.run("INSERT INTO groups (name_key, owner_id, created_at) VALUES (?, ?, ?)", [
        key,
        ownerId,
        now,
      ]);
      // A list may already name "@key": the new group's members are permitted there from now on.
      this.#verdicts.clear();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError(409, "group_exists", `Cannot create group '${name}': the name is taken`);
      }
      throw err;
    }
    return { name: key, owner: ownerId, members: [] };
  }

  /** Owners and members may see a group; to anyone else it does not exist. */
  async getGroup(viewerId: string, viewerName: string, name: string): Promise<GroupResponse> {
    const key = checkGroupName(name);
    const g = await this.#groupRow(key);
    if (!g || (g.owner_id !== viewerId && !(await this.#isMember(key, viewerName)))) {
      throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    }
    return { name: key, owner: g.owner_id, members: await this.#members(key) };
  }

  async editMembers(
    ownerId: string,
    ownerName: string,
    name: string,
    e: { add?: string[] | undefined; delete?: string[] | undefined },
  ): Promise<GroupResponse> {
    const key = checkGroupName(name);
    // Input is checked before any lookup, so a malformed request is a 400 whatever the group's state.
    const add = e.add?.map((x, i) => checkMember(x, `add[${i}]`));
    const del = e.delete?.map((x, i) => checkMember(x, `delete[${i}]`));
    const g = await this.#groupRow(key);
    if (!g || (g.owner_id !== ownerId && !(await this.#isMember(key, ownerName)))) {
      throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    }
    if (g.owner_id !== ownerId)
      throw new ApiError(403, "not_group_owner", `Only the owner edits group '${name}'`);
    await this.#db.transaction(async (tx) => {
      for (const m of add ?? [])
        await tx.run(
          "INSERT INTO group_members (group_key, member_key) VALUES (?, ?) ON CONFLICT DO NOTHING",
          [key, m],
        );
      for (const m of del ?? [])
        await tx.run("DELETE FROM group_members WHERE group_key = ? AND member_key = ?", [key, m]);
      const n = (await tx.get<{ n: number }>("SELECT count(*) AS n FROM group_members WHERE group_key = ?", [
        key,
      ]))!.n;
      if (n > this.#maxEntries)
        throw badRequest("add", `the group would hold ${n} members, above ${this.#maxEntries}`);
    });
    this.#verdicts.clear();
    return { name: key, owner: g.owner_id, members: await this.#members(key) };
  }

  async deleteGroup(ownerId: string, name: string): Promise<void> {
    const key = checkGroupName(name);
    const g = await this.#groupRow(key);
    if (!g || g.owner_id !== ownerId) throw new ApiError(404, "group_not_found", `Group '${name}' not found`);
    await this.#db.run("DELETE FROM groups WHERE name_key = ?", [key]);
    this.#verdicts.clear();
  }

  /** Every group with its owner and members (the operator's view). */
  async allGroups(): Promise<GroupResponse[]> {
    const groups = await this.#db.all<{ name_key: string; owner_id: string }>(
      "SELECT name_key, owner_id FROM groups ORDER BY name_key",
    );
    return Promise.all(
      groups.map(async (g) => ({
        name: g.name_key,
        owner: g.owner_id,
        members: await this.#members(g.name_key),
      })),
    );
  }

  #groupRow(key: string): Promise<{ owner_id: string } | null> {
    return this.#db.get<{ owner_id: string }>("SELECT owner_id FROM groups WHERE name_key = ?", [key]);
  }

  async #isMember(key: string, deviceName: string): Promise<boolean> {
    const row = await this.#db.get<{ one: number }>(
      "SELECT 1 AS one FROM group_members WHERE group_key = ? AND member_key = ?",
      [key, nameKey(deviceName)],
    );
    return row !== null;
  }

  async #members(key: string): Promise<string[]> {
    return (
      await this.#db.all<{ m: string }>(
        "SELECT member_key AS m FROM group_members WHERE group_key = ? ORDER BY member_key",
        [key],
      )
    ).map((r) => r.m);
  }
}

function checkMember(x: unknown, field: string): string {
  if (typeof x !== "string" || !DEVICE_NAME.test(x)) throw badRequest(field, "members must be device names");
  return nameKey(x);
}

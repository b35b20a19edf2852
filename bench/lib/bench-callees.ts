/** @module The control benches' callees: each lists a group of its own holding every caller, and is registered at a loopback address. */
import type { SqlDriver } from "../../control/store/sql-driver.ts";

/**
 * Devices 0 … callees − 1 become callees, devices callees … callees + callers − 1 their callers. Each callee
 * lists `@everyone-i`, a group it owns holding every caller (issue 21 item 1: "@name" resolves only in the
 * list owner's namespace, so a group owned by one device permits nobody in another's list), and is registered
 * at 127.0.0.1:30000 + i. One transaction.
 */
export async function permitCallersOfCallees(
  db: SqlDriver,
  devices: readonly { id: string }[],
  o: { names: readonly string[]; callees: number; callers: number },
): Promise<void> {
  await db.transaction(async (tx) => {
    for (let i = 0; i < o.callees; i++) {
      const group = `everyone-${i}`;
      const owner = devices[i]!.id;
      await tx.run("INSERT INTO groups (name_key, owner_id, created_at) VALUES (?, ?, 0)", [group, owner]);
      for (let w = 0; w < o.callers; w++)
        await tx.run("INSERT INTO group_members (group_key, member_key) VALUES (?, ?)", [
          group,
          o.names[o.callees + w]!,
        ]);
      await tx.run("INSERT INTO allow_entries (owner_id, entry) VALUES (?, ?)", [owner, `@${group}`]);
      await tx.run("INSERT INTO registrations (device_id, address, port, at) VALUES (?, '127.0.0.1', ?, 0)", [
        owner,
        30000 + i,
      ]);
    }
  });
}

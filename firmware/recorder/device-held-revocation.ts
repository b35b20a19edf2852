/** @module Under policy device, whether this recorder's own list has stopped permitting a session's caller since the grant. */
import type { DeviceAllowList } from "../permit/device-allow-list.ts";

/**
 * Issue 21 item 3 for device-held lists: the node holds no list to judge by, so the callee itself checks again
 * when a held grant is used (the direct REQUEST, a relay `data` trigger) and ends the session as "revoked" if
 * its list no longer names the caller. Under policy node the node revokes at the edit, and this says false.
 * An unreadable list file counts as revoking: refusing is the safe side.
 */
export function revokedByDeviceList(allow: DeviceAllowList, callerName: string | undefined): boolean {
  try {
    if (allow.read().policy === "node") return false; // "device" and "list": this recorder holds the list
    return callerName === undefined || !allow.permits(callerName);
  } catch {
    return true;
  }
}

/** @module A control API call's outcome as one comparable string, so a table of calls can list what each must get. */
import { ControlApiError } from "../../protocol/control-api-error.ts";

/** "ok" when the call succeeds, "<status> <code>" when the node refuses it; anything else is rethrown. */
export async function outcomeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof ControlApiError) return `${err.status} ${err.code}`;
    throw err;
  }
}

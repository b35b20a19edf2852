/** @module `pvrlink inbox`: stored transfers waiting at the node for this recorder, and recordings received. */

import { type Command, EXIT_OK, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import type { InboxEntry } from "../../protocol/api-types.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { loadCredential } from "../config/credential-store.ts";
import { resolveConfig } from "../config/recorder-config.ts";
import { recorderNodeClient } from "../config/recorder-node-client.ts";
import { Library } from "../library/library.ts";
import { formatBytes } from "../progress/format-progress.ts";
import { readStatus } from "../recorder/recorder-status-file.ts";
import { recordingJson, recordingTable } from "./library-command.ts";

const HELP = `Usage: pvrlink inbox [--data DIR] [--json]

Lists the stored transfers the control node holds for this recorder (store-and-forward: the sender found it
busy), which the daemon picks up when its load allows, and the recordings this recorder has received. Stored
items the daemon could not verify (corrupt, undecryptable) are marked 'rejected' with their code; they are
never filed. Works while the node is unreachable: then only the received recordings are listed.

Options:
  --json        one JSON object {pending, pendingError, received}
  --data DIR, --config FILE, --node URL: as for 'pvrlink recorder'

Exit codes: 0 success, 1 bad input (no credential), 2 bad usage.`;

export const command: Command = {
  summary: "stored transfers waiting at the node and recordings received",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CONFIG_FLAGS, json: { type: "boolean" } });
    if (positionals.length) throw new UsageError("inbox takes no arguments");
    const config = await resolveConfig(values as ConfigFlagValues);
    const cred = await loadCredential(config.credentialPath);
    const client = recorderNodeClient(cred, config, { nodeFlag: values.node !== undefined });
    let pending: InboxEntry[] = [];
    let pendingError: string | null = null;
    try {
      pending = await client.inbox();
    } catch (err) {
      pendingError = (err as Error).message;
    }
    let failed = new Map<string, { code: string }>();
    try {
      failed = new Map((readStatus(config.dataDir)?.inbox.failed ?? []).map((f) => [f.id, f]));
    } catch {
      // no daemon state: nothing marked rejected
    }
    using library = await Library.open(config.dataDir, config.libraryDir);
    const received = library.list().filter((r) => r.origin === "received");
    const rows: InboxEntry[] = pending.map((e) =>
      failed.has(String(e.id)) ? { ...e, rejected: failed.get(String(e.id))!.code } : e,
    );
    if (values.json) {
      console.log(JSON.stringify({ pending: rows, pendingError, received: received.map(recordingJson) }));
      return EXIT_OK;
    }
    const out: string[] = [];
    if (pendingError) out.push(`Pending at the node: unknown (${pendingError})`);
    else if (rows.length === 0) out.push("Pending at the node: none");
    else {
      out.push(`Pending at the node: ${rows.length}`);
      for (const e of rows) {
        const sender = (e.sender as { name?: string } | undefined)?.name ?? "?";
        const size = typeof e.size === "number" ? formatBytes(e.size) : "?";
        const mark = e.rejected !== undefined ? `  rejected: ${String(e.rejected)}` : "";
        out.push(`  ${String(e.id)}  from ${sender}  ${size}${e.label ? `  ${String(e.label)}` : ""}${mark}`);
      }
    }
    out.push("", "Received:", recordingTable(received));
    console.log(out.join("\n"));
    return EXIT_OK;
  },
};

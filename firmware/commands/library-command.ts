/** @module `pvrlink library add|list|remove`: the recordings this recorder holds and their attributes. */
import { type Command, EXIT_INPUT, EXIT_OK, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { subcommandHelp } from "../../cli/subcommand-help.ts";
import { CONFIG_FLAGS } from "../config/config-flags.ts";
import { resolveConfig } from "../config/recorder-config.ts";
import { Library, type Recording } from "../library/library.ts";
import { exportProtected } from "../library/protected-export.ts";
import { parseProtection } from "../library/protection-mode.ts";
import { formatBytes } from "../progress/format-progress.ts";

const HELP = `Usage: pvrlink library add FILE [--secret] [--protection sealed|seed|pattern] [--name NAME]
       pvrlink library list [--json]
       pvrlink library remove ID
       pvrlink library export ID DEST [--protected]

Keeps recordings and their attributes: a copy of the file in the library directory, its size and SHA-256,
the type detected by content (es, ps, ts, m2ts, mp4, or data) and whether it is secret. A secret recording
is only ever sent encrypted through the control node; video is split, its I-pictures through the node.
A recording's protection says how its direct part travels: sealed (the default) seals every frame under a
key only the two recorders hold; the light modes, for boxes without AES instructions, send it clear but
authenticated: seed leaves P/B pictures readable on the path, pattern encrypts 1 in 10 blocks of every P/B
slice, so an eavesdropper decodes nothing usable ('pvrlink help security'). 'pvrlink send --protection'
overrides it per send.

export copies a recording out of the library to DEST (a file, or a directory to put it in under its name),
never overwriting. Received recordings keep their name: the library file is ID-NAME, and 'list' shows its path.
With --protected, an H.264 MP4 is written as a standard encrypted MP4 instead (CENC 'cbcs': 1 in 10 blocks of
every slice encrypted, as players with the key decrypt it) under a fresh key, which goes to DEST.key (mode
0600, 32 hex digits: 'ffmpeg -decryption_key "$(cat DEST.key)" -i DEST ...'). The key is never printed or
logged; keep the key file apart from the MP4 to keep it protected.

Options:
  --secret        mark the recording secret (add)
  --protection M  sealed, seed or pattern (add; default: sealed)
  --name NAME     name to show and send under (add; default: the file name)
  --json          one JSON array of recordings (list)
  --protected     write an H.264 MP4 as a cbcs encrypted MP4 and its key file (export)
  --data DIR      data directory (default: $PVRLINK_DATA or ~/.local/share/pvrlink)
  --library DIR   library directory (default: DATA/library)
  --config FILE   config file (default: DATA/config.json when present)
  -h, --help      show this help

Exit codes: 0 success, 1 bad input (missing file, unknown id), 2 bad usage.`;

/** The `library list --json` record: the Recording fields, in this order, with addedAt as ISO 8601. */
export function recordingJson(r: Recording): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    secret: r.secret,
    protection: r.protection,
    size: r.size,
    sha256: r.sha256,
    origin: r.origin,
    sender: r.sender,
    sessionId: r.sessionId,
    addedAt: new Date(r.addedAt).toISOString(),
    path: r.path,
  };
}

/** The human table: one line per recording. */
export function recordingTable(list: Recording[]): string {
  if (list.length === 0) return "No recordings.";
  const rows = list.map((r) => [
    r.id,
    r.type,
    r.secret ? "secret" : "",
    r.protection ?? "",
    formatBytes(r.size),
    new Date(r.addedAt).toISOString().slice(0, 16).replace("T", " "),
    r.origin === "received" ? `from ${r.sender ?? "?"}` : "",
    r.name,
    r.path,
  ]);
  const head = ["ID", "TYPE", "SECRET", "PROTECTION", "SIZE", "ADDED (UTC)", "ORIGIN", "NAME", "PATH"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

export const command: Command = {
  summary: "add, list, remove or export recordings in this recorder's library",
  help: HELP,
  helpFor: (args) => subcommandHelp(HELP, "library", args[0]),
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...CONFIG_FLAGS,
      secret: { type: "boolean" },
      protection: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      protected: { type: "boolean" },
    });
    const [action, ...rest] = positionals;
    const only = (allowed: string[]) => {
      for (const f of ["secret", "json", "protection", "protected"] as const) {
        if (values[f] && !allowed.includes(f)) throw new UsageError(`--${f} does not apply to '${action}'`);
      }
    };
    // --name means the recording's name here, not the device name; keep it out of the config.
    const { name: recordingName, protection, protected: _protected, ...configFlags } = values;
    const config = await resolveConfig(configFlags);
    switch (action) {
      case "add": {
        only(["secret", "protection"]);
        if (rest.length !== 1) throw new UsageError("add takes exactly one FILE");
        let mode: ReturnType<typeof parseProtection> | undefined;
        try {
          mode = protection === undefined ? undefined : parseProtection(protection);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        using lib = await Library.open(config.dataDir, config.libraryDir);
        const r = await lib.add(rest[0]!, {
          secret: values.secret ?? false,
          ...(recordingName !== undefined ? { name: recordingName } : {}),
          ...(mode !== undefined ? { protection: mode } : {}),
        });
        console.log(
          `${r.id}\t${r.type}${r.secret ? "\tsecret" : ""}${r.protection ? `\t${r.protection}` : ""}\t${r.size} bytes\t${r.name}`,
        );
        return EXIT_OK;
      }
      case "list": {
        only(["json"]);
        if (rest.length !== 0 || recordingName !== undefined) throw new UsageError("list takes no arguments");
        using lib = await Library.open(config.dataDir, config.libraryDir);
        const list = lib.list();
        console.log(values.json ? JSON.stringify(list.map(recordingJson)) : recordingTable(list));
        return EXIT_OK;
      }
      case "remove": {
        only([]);
        if (rest.length !== 1 || recordingName !== undefined)
          throw new UsageError("remove takes exactly one ID");
        using lib = await Library.open(config.dataDir, config.libraryDir);
        if (!(await lib.remove(rest[0]!))) {
          console.error(`pvrlink library: no recording with id '${rest[0]}' (ERR_LIBRARY_UNKNOWN_ID)`);
          return EXIT_INPUT;
        }
        console.log(`removed ${rest[0]}`);
        return EXIT_OK;
      }
      case "export": {
        only(["protected"]);
        if (rest.length !== 2 || recordingName !== undefined)
          throw new UsageError("export takes exactly one ID and one DEST");
        using lib = await Library.open(config.dataDir, config.libraryDir);
        if (values.protected) {
          const target = await lib.exportTarget(rest[0]!, rest[1]!);
          const r = await exportProtected(target.source, target.path);
          // The key's path only: the key itself never reaches stdout or a log.
          console.log(`exported ${rest[0]} to ${r.path} (cbcs encrypted); key in ${r.keyPath} (mode 0600)`);
          return EXIT_OK;
        }
        console.log(`exported ${rest[0]} to ${await lib.export(rest[0]!, rest[1]!)}`);
        return EXIT_OK;
      }
      case undefined:
        throw new UsageError("missing action: add, list, remove or export");
      default:
        throw new UsageError(`unknown action '${action}': add, list, remove or export`);
    }
  },
};

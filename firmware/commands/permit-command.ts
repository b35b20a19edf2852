/** @module `pvrlink permit`: who may call this recorder, kept by the node (policy node) or by this device (policy device). */
import { mkdirSync } from "node:fs";
import { type Command, EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { subcommandHelp } from "../../cli/subcommand-help.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { loadCredential } from "../config/credential-store.ts";
import { type RecorderConfig, resolveConfig } from "../config/recorder-config.ts";
import { recorderNodeClient } from "../config/recorder-node-client.ts";
import {
  type AllowListState,
  DeviceAllowList,
  normalizeEntry,
  normalizeGroup,
  normalizeName,
  type PermitPolicy,
} from "../permit/device-allow-list.ts";

const HELP = `Usage:
  pvrlink permit add|remove|set NAME... [--data DIR]
  pvrlink permit list [--json]
  pvrlink permit group create|delete GROUP
  pvrlink permit group add|remove GROUP NAME...
  pvrlink permit group show GROUP [--json]
  pvrlink permit policy node|device|list

Who may call this recorder. NAME is a device name, or @GROUP for every member of a group. add and remove edit
the list, set replaces it (seed A: Create, Add, Delete). Names compare case-insensitively.

Three policies:
  node    the control node keeps the list and decides; these commands edit the node's copy.
  device  this recorder keeps the list (DATA/allow-list.json, 0600) and the node asks the running daemon
          with a verdict trigger for each caller; the node never learns the list. Groups are local too:
          '@family' matches a caller whose name is a member of this recorder's group 'family'.
  list    this recorder keeps the list as under device, and for each query the node asks the running daemon
          for it; the daemon sends the whole list (signed), the node judges that one query and keeps nothing.
'policy' switches both the node and the local setting; the others act on whichever policy is in force.

Options:
  --json       machine-readable list / group
  --data DIR, --config FILE, --node URL: as for 'pvrlink recorder'

Exit codes: 0 success, 1 bad input (node refused, unknown group), 2 bad usage.`;

async function nodeClient(values: ConfigFlagValues, config: RecorderConfig): Promise<ControlClient> {
  const cred = await loadCredential(config.credentialPath);
  return recorderNodeClient(cred, config, { nodeFlag: values.node !== undefined });
}

/** Turns a refusal from the node into bad input (exit 1) with its stable code. */
async function onNode<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ControlApiError) throw new InputError(err.message, err.code);
    if (err instanceof InputError) throw err;
    throw new InputError(`Cannot reach the control node: ${(err as Error).message}`, "ERR_NODE_UNREACHABLE");
  }
}

function needNames(names: string[], what: string): void {
  if (names.length === 0) throw new UsageError(`${what} needs at least one NAME`);
}

export const command: Command = {
  summary: "edit who may call this recorder (node- or device-held allow-list, groups, policy)",
  help: HELP,
  helpFor: (args) => subcommandHelp(HELP, "permit", args[0]),
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CONFIG_FLAGS, json: { type: "boolean" } });
    const config = await resolveConfig(values as ConfigFlagValues);
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const local = new DeviceAllowList(config.dataDir, config.allow);
    const state = local.read(config.policy);
    const [action, ...rest] = positionals;
    const print = (entries: string[], policy: PermitPolicy) => {
      if (values.json) console.log(JSON.stringify({ policy, entries }));
      else
        console.log(
          entries.length ? entries.join("\n") : `(nobody may call: the ${policy}-held list is empty)`,
        );
    };

    if (action === "policy") {
      const p = rest[0];
      if (rest.length !== 1 || (p !== "node" && p !== "device" && p !== "list"))
        throw new UsageError("policy takes node, device or list");
      const client = await nodeClient(values, config);
      await onNode(() => client.setPolicy(p));
      local.update((s) => ({ ...s, policy: p }), config.policy);
      console.log(`policy ${p}`);
      return EXIT_OK;
    }

    if (action === "add" || action === "remove" || action === "set" || action === "list") {
      if (action === "list" && rest.length) throw new UsageError("list takes no NAME");
      if (action !== "list" && action !== "set") needNames(rest, action);
      const entries = rest.map(normalizeEntry);
      if (state.policy !== "node") {
        const next = local.update((s): AllowListState => {
          if (action === "add") return { ...s, entries: [...s.entries, ...entries] };
          if (action === "remove") return { ...s, entries: s.entries.filter((e) => !entries.includes(e)) };
          if (action === "set") return { ...s, entries };
          return s;
        }, config.policy);
        print([...new Set([...local.fixed, ...next.entries])].sort(), "device");
        return EXIT_OK;
      }
      const client = await nodeClient(values, config);
      const r = await onNode(() =>
        action === "add"
          ? client.updateAllowList({ add: entries })
          : action === "remove"
            ? client.updateAllowList({ delete: entries })
            : action === "set"
              ? client.updateAllowList({ create: entries })
              : client.allowList(),
      );
      print(r.entries, r.policy);
      return EXIT_OK;
    }

    if (action === "group") {
      const [op, rawGroup, ...names] = rest;
      if (rawGroup === undefined) throw new UsageError("group needs an action and a GROUP");
      const group = normalizeGroup(rawGroup);
      const members = names.map((n) => normalizeName(n));
      if (state.policy !== "node") {
        let shown: string[] = [];
        local.update((s): AllowListState => {
          const groups = { ...s.groups };
          const cur = groups[group];
          if (op === "create") {
            if (names.length) throw new UsageError("group create takes only GROUP");
            if (cur) throw new InputError(`Cannot create group '${group}': it exists`, "group_exists");
            groups[group] = [];
          } else if (op === "delete") {
            if (!cur) throw new InputError(`No group '${group}'`, "group_not_found");
            delete groups[group];
          } else {
            if (!cur) throw new InputError(`No group '${group}'`, "group_not_found");
            if (op === "add") {
              needNames(names, "group add");
              groups[group] = [...cur, ...members];
            } else if (op === "remove") {
              needNames(names, "group remove");
              groups[group] = cur.filter((m) => !members.includes(m));
            } else if (op !== "show") throw new UsageError(`unknown group action '${op}'`);
          }
          shown = groups[group] ?? [];
          return { ...s, groups };
        }, config.policy);
        if (values.json) console.log(JSON.stringify({ name: group, members: [...new Set(shown)].sort() }));
        else if (op !== "delete")
          console.log(`@${group}: ${[...new Set(shown)].sort().join(", ") || "(no members)"}`);
        else console.log(`deleted @${group}`);
        return EXIT_OK;
      }
      const client = await nodeClient(values, config);
      if (op === "delete") {
        await onNode(() => client.deleteGroup(group));
        console.log(`deleted @${group}`);
        return EXIT_OK;
      }
      const g = await onNode(async () => {
        if (op === "create") return client.createGroup(group);
        if (op === "add") return client.updateGroup(group, { add: members });
        if (op === "remove") return client.updateGroup(group, { delete: members });
        if (op === "show") return client.group(group);
        throw new UsageError(`unknown group action '${op}'`);
      });
      if (values.json) console.log(JSON.stringify({ name: g.name, members: g.members }));
      else console.log(`@${g.name}: ${g.members.join(", ") || "(no members)"}`);
      return EXIT_OK;
    }
    throw new UsageError(
      action === undefined
        ? "expected add, remove, set, list, group or policy"
        : `unknown action '${action}'`,
    );
  },
};

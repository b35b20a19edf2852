/** @module `pvrlink peers [trust NAME]`: this recorder's fingerprint and every pinned peer's, and re-approving a peer whose key changed. */
import { type Command, EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { resolveConfig } from "../config/recorder-config.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { PeerPins } from "../peers/peer-pins.ts";

const HELP = `Usage:
  pvrlink peers [--json] [--data DIR]
  pvrlink peers trust NAME [--data DIR]

peers        This recorder's identity fingerprint, then each peer's, pinned at first contact (trust on first
             use). Read them to the peer's owner over the phone: both sides must show the same digits.
             A peer whose key changed since is marked CHANGED with the new fingerprint; sends to it and
             sessions from it are refused (peer_key_changed) until you approve it.
trust NAME   Approves NAME's new key, after you compared its fingerprint with NAME's owner.

Exit codes: 0 success, 1 bad input (no changed key waiting for NAME), 2 bad usage.`;

export const command: Command = {
  summary: "identity fingerprints of this recorder and its peers; re-approve a changed key",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CONFIG_FLAGS, json: { type: "boolean" } });
    const config = await resolveConfig(values as ConfigFlagValues);
    const pins = new PeerPins(config.dataDir);
    const [sub, name, ...extra] = positionals;
    if (sub === "trust") {
      if (name === undefined || extra.length > 0) throw new UsageError("trust takes exactly one NAME");
      if (!pins.trust(name))
        throw new InputError(`Cannot trust ${name}: no changed key is waiting for it`, "ERR_NO_CHANGED_KEY");
      const pin = pins.list().find((p) => p.name.toLowerCase() === name.toLowerCase());
      console.log(`${name}: now trusting ${pin?.fingerprint}`);
      return EXIT_OK;
    }
    if (sub !== undefined) throw new UsageError(`unknown subcommand '${sub}'`);
    const me = await loadOrCreateIdentity(config.dataDir);
    const peers = pins.list();
    if (values.json) {
      console.log(JSON.stringify({ self: { fingerprint: me.fingerprint }, peers }));
      return EXIT_OK;
    }
    console.log(`this recorder  ${me.fingerprint}`);
    for (const p of peers) {
      const changed = p.offered
        ? `  CHANGED to ${p.offered.fingerprint} (pvrlink peers trust ${p.name})`
        : "";
      console.log(`${p.name.padEnd(13)}  ${p.fingerprint}${changed}`);
    }
    return EXIT_OK;
  },
};

/** @module `pvrlink demo`: runs the whole system on loopback and shows what goes which way (npm run demo). */
import { type Command, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import { runDemo } from "./run-demo.ts";

const HELP = `Usage: pvrlink demo [--verbose] [--real-load]

Starts a control node and two recorders (alice, bob) on 127.0.0.1 as child processes of this program, with
temporary directories; enrolls them, lets alice call bob, and sends a sample MPEG-2 recording from alice to
bob: the I-pictures sealed through the node, the rest directly. Prints what went which way, checks the
received copy is byte-identical (SHA-256), shows a refused query (not permitted) and a busy callee served by
store-and-forward with pickup once it is free again. Removes everything at the end.

Options:
  --verbose     also print every process's log lines
  --real-load   recorders judge their load from /proc (default: a steady idle view, so another job on this
                machine cannot make bob busy at random; the busy step uses bob's "do not disturb" switch)

Exit codes: 0 every step as expected, 1 a step failed.`;

export const command: Command = {
  summary: "run a node and two recorders on loopback and send a recording",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      verbose: { type: "boolean" },
      "real-load": { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError("demo takes no arguments");
    return runDemo({ verbose: values.verbose === true, realLoad: values["real-load"] === true });
  },
};

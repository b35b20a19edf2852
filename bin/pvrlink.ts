#!/usr/bin/env bun
import { type Command, EXIT_INPUT, EXIT_USAGE, InputError, UsageError } from "../cli/command.ts";
/** @module The `pvrlink` binary: the one place that wires subcommands (recorder, control node, codec tools) together. */
import pkg from "../package.json" with { type: "json" };

// Subcommands load lazily so `pvrlink inspect` does not pay for the control node's imports.
// Static specifiers keep them inside the compiled single binary.
const commands: Record<string, () => Promise<{ command: Command }>> = {
  control: () => import("../control/control-command.ts"),
  inspect: () => import("../tools/inspect-command.ts"),
  split: () => import("../tools/split-command.ts"),
  merge: () => import("../tools/merge-command.ts"),
  library: () => import("../firmware/commands/library-command.ts"),
  recorder: () => import("../firmware/commands/recorder-command.ts"),
  permit: () => import("../firmware/commands/permit-command.ts"),
  inbox: () => import("../firmware/commands/inbox-command.ts"),
  send: () => import("../firmware/commands/send-command.ts"),
  peers: () => import("../firmware/commands/peers-command.ts"),
  demo: () => import("../demo/demo-command.ts"),
};

// Loads every command for its summary: only `--help` (or no command) pays for that.
async function usage(): Promise<string> {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const rows = await Promise.all(
    names.map(async (n) => `  ${n.padEnd(width)}  ${(await commands[n]!()).command.summary}`),
  );
  return [
    "Usage: pvrlink <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Run `pvrlink <command> --help` for a command's options.",
    "Exit codes: 0 success, 1 bad input, 2 bad usage.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    console.log(`pvrlink ${pkg.version}`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`pvrlink: unknown command '${name}'\n\n${await usage()}`);
    return EXIT_USAGE;
  }
  const { command } = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`pvrlink ${name}: ${err.message}\n\n${command.help}`);
      return EXIT_USAGE;
    }
    if (err instanceof InputError) {
      console.error(`pvrlink ${name}: ${err.message} (${err.code})`);
      return EXIT_INPUT;
    }
    throw err;
  }
}

// No top-level await: the binary is a CommonJS bundle (scripts/build.ts). An unexpected error still ends the
// process as an unhandled rejection, printed with its stack, exit code 1.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

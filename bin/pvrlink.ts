#!/usr/bin/env bun
import { type Command, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from "../cli/command.ts";
import { errorLine, formatErrorLine } from "../cli/error-line.ts";
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
  doctor: () => import("../firmware/commands/doctor-command.ts"),
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
    "Run `pvrlink <command> --help` for a command's options, `pvrlink help TOPIC` for a document.",
    "Exit codes: 0 success, 1 bad input, 2 bad usage.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    console.log(`pvrlink ${pkg.version}`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    console.log(`${await usage()}\n\n${(await import("./help-topics.ts")).topicList()}`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "help") return help(rest);
  const load = commands[name];
  if (!load) {
    console.error(`pvrlink: unknown command '${name}'\n\n${await usage()}`);
    return EXIT_USAGE;
  }
  const { command } = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.helpFor?.(rest.filter((a) => !a.startsWith("-"))) ?? command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`pvrlink ${name}: ${err.message}\n\n${command.helpFor?.(rest) ?? command.help}`);
      return EXIT_USAGE;
    }
    return reportError(name, err);
  }
}

/** `pvrlink help COMMAND [SUB]` is `pvrlink COMMAND [SUB] --help`; `pvrlink help TOPIC` prints a shipped document. */
async function help([topic, ...sub]: string[]): Promise<number> {
  const load = commands[topic ?? ""];
  if (load) {
    const { command } = await load();
    console.log(command.helpFor?.(sub) ?? command.help);
    return 0;
  }
  const { helpTopic, topicList } = await import("./help-topics.ts");
  const text = helpTopic(topic ?? "");
  if (text === undefined) {
    console.error(`pvrlink help: no command or topic '${topic}'\n\n${topicList()}`);
    return EXIT_USAGE;
  }
  console.log(text.trimEnd());
  return 0;
}

/** One line, with the code and the next step; the stack only when PVRLINK_DEBUG asks for it. */
function reportError(name: string, err: unknown): number {
  const line = errorLine(err);
  console.error(`pvrlink ${name}: ${formatErrorLine(line)}`);
  if (process.env.PVRLINK_DEBUG && err instanceof Error) console.error(err.stack);
  return line.exit;
}

// A daemon's failure outside any awaited call (a socket error in a callback) ends it the same way.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    process.exitCode = reportError(process.argv[2] ?? "", err);
    process.exit();
  });
}

// No top-level await: the binary is a CommonJS bundle (scripts/build.ts).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // An interrupted command leaves its sockets open; nothing more will be done with them.
  if (code === EXIT_INTERRUPTED) process.exit();
});

/** @module One subcommand's --help, cut from its command's help text: its usage lines, its paragraph, the options. */

/**
 * The help for `pvrlink COMMAND SUB --help`: the usage lines naming SUB (`add|remove` names both), the
 * paragraph that starts with SUB at the left margin (else the command's description), then the Options and
 * Exit code sections. Undefined when no usage line names SUB: the caller shows the command's whole help.
 */
export function subcommandHelp(help: string, command: string, sub: string | undefined): string | undefined {
  if (sub === undefined) return undefined;
  const pattern = new RegExp(`pvrlink ${command} (\\S+)`);
  const usage = help
    .split("\n")
    .filter((l) => pattern.exec(l)?.[1]?.split("|").includes(sub) === true)
    .map((l) => `  ${l.slice(l.indexOf("pvrlink"))}`);
  if (usage.length === 0) return undefined;
  const blocks = help.split("\n\n").slice(1);
  const isTail = (b: string) => b.startsWith("Options") || b.startsWith("Exit codes");
  const own = blocks
    .flatMap((b) => b.split(/\n(?=\S)/))
    .find((p) => p.startsWith(`${sub} `) && !p.startsWith(`${sub} takes`));
  const description = own !== undefined ? [own] : blocks.filter((b) => !isTail(b));
  return [`Usage:\n${usage.join("\n")}`, ...description, ...blocks.filter(isTail)].join("\n\n");
}

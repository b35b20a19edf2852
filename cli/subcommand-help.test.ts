/** @module subcommandHelp(): one subcommand's usage lines and paragraph cut from its command's help. */
import { describe, expect, test } from "bun:test";
import { subcommandHelp } from "./subcommand-help.ts";

const HELP = `Usage:
  pvrlink box open NAME [--fast]
  pvrlink box close|lock NAME
  pvrlink box list

open     Opens the box NAME.
         Carefully.
close    Closes it.

Options:
  --fast   quickly

Exit codes: 0 success.`;

describe("subcommandHelp()", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    [
      "keeps open's usage line and paragraph, then the options",
      "open",
      "Usage:\n  pvrlink box open NAME [--fast]\n\nopen     Opens the box NAME.\n         Carefully.\n\nOptions:\n  --fast   quickly\n\nExit codes: 0 success.",
    ],
    [
      "finds a subcommand inside an a|b usage line",
      "lock",
      "Usage:\n  pvrlink box close|lock NAME\n\nopen     Opens the box NAME.\n         Carefully.\nclose    Closes it.\n\nOptions:\n  --fast   quickly\n\nExit codes: 0 success.",
    ],
    ["returns undefined for an unknown subcommand", "paint", undefined],
    ["returns undefined for no subcommand", undefined, undefined],
  ];
  for (const [name, sub, want] of cases) {
    test(`subcommandHelp() ${name}`, () => {
      expect(subcommandHelp(HELP, "box", sub)).toBe(want);
    });
  }
});

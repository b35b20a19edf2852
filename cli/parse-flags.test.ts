/** @module Tests for parseFlags: node:util's parseArgs (strict) as the reference on valid input, UsageError on the rest. */
import { describe, expect, test } from "bun:test";
import { parseArgs } from "node:util";
import { UsageError } from "./command.ts";
import { parseFlags } from "./parse-flags.ts";

const SPEC = {
  out: { type: "string", short: "o" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
  tag: { type: "string", short: "t", multiple: true },
} as const;

/** What node:util's parseArgs makes of the same arguments, in the same strict mode. */
function reference(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: { ...SPEC, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
  return { values: { ...values }, positionals };
}

describe("parseFlags()", () => {
  const valid: [string, string[]][] = [
    ["nothing", []],
    ["positionals only", ["a", "b"]],
    ["a boolean", ["--json", "file"]],
    ["a string with a space", ["--out", "dir", "file"]],
    ["a string with =", ["--out=dir"]],
    ["an empty string with =", ["--out="]],
    ["a value holding =", ["--out=a=b"]],
    ["a short string", ["-o", "dir"]],
    ["a short string joined", ["-odir"]],
    ["grouped booleans", ["-vq", "x"]],
    ["booleans then a string letter", ["-vqodir"]],
    ["a repeated string: the last wins", ["--out", "a", "--out", "b"]],
    ["a multiple string collects", ["-t", "a", "--tag", "b", "--tag=c"]],
    ["help long and short", ["--help", "-h"]],
    ["-- ends the flags", ["--json", "--", "--out", "-v"]],
    ["a lone dash is a positional", ["-", "--out", "-"]],
    ["flags after positionals", ["file", "--json"]],
  ];
  test.each(valid)("parseFlags() reads %s as node:util does", (_name, args) => {
    const got = parseFlags(args, SPEC);
    expect({ values: { ...got.values }, positionals: got.positionals }).toEqual(reference(args));
  });

  const invalid: [string, string[], RegExp][] = [
    ["an unknown long flag", ["--nope"], /Unknown option '--nope'/],
    ["an unknown short flag", ["-x"], /Unknown option '-x'/],
    ["an unknown letter in a group", ["-vx"], /Unknown option '-x'/],
    ["a boolean given a value", ["--json=yes"], /does not take an argument/],
    ["a string without its value", ["--out"], /argument missing/],
    ["a short string without its value", ["-o"], /argument missing/],
    ["a string followed by a flag", ["--out", "--json"], /ambiguous.*--out=--json/],
    ["a short string followed by a flag", ["-o", "-v"], /ambiguous.*--out=-v/],
  ];
  test.each(invalid)("parseFlags() rejects %s with a UsageError", (_name, args, message) => {
    expect(() => parseFlags(args, SPEC)).toThrow(UsageError);
    expect(() => parseFlags(args, SPEC)).toThrow(message);
    // node:util refuses the same arguments.
    expect(() => reference(args)).toThrow();
  });
});

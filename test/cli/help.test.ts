/** @module Every command and subcommand has its own --help, no help names a file that does not ship, and `pvrlink help TOPIC` prints documents carried in the binary. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runPvrlink } from "../support/pvrlink-process.ts";

const COMMANDS = [
  "control",
  "inspect",
  "split",
  "merge",
  "library",
  "recorder",
  "permit",
  "inbox",
  "send",
  "demo",
];
/** Each subcommand and a word only its own help has (its usage line). */
const SUBCOMMANDS: [string, string, RegExp][] = [
  ["control", "serve", /^ {2}pvrlink control serve \[--detach\]/m],
  ["control", "enroll", /^ {2}pvrlink control enroll NAME/m],
  ["control", "stop", /^ {2}pvrlink control stop/m],
  ["recorder", "run", /^ {2}pvrlink recorder run \[--detach\]/m],
  ["recorder", "enroll", /^ {2}pvrlink recorder enroll --node URL/m],
  ["recorder", "status", /^ {2}pvrlink recorder status/m],
  ["library", "add", /^ {2}pvrlink library add FILE/m],
  ["library", "list", /^ {2}pvrlink library list/m],
  ["permit", "add", /^ {2}pvrlink permit add\|remove\|set NAME/m],
  ["permit", "group", /^ {2}pvrlink permit group create\|delete GROUP/m],
];

describe("pvrlink help", () => {
  for (const [cmd, sub, own] of SUBCOMMANDS) {
    test(`pvrlink ${cmd} ${sub} --help prints ${sub}'s own usage, not the whole ${cmd} help`, async () => {
      const r = await runPvrlink([cmd, sub, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(own);
      const usage = r.stdout.slice(0, r.stdout.indexOf("\n\n"));
      for (const line of usage.split("\n").slice(1)) expect(line).toContain(`pvrlink ${cmd} `);
      expect(
        usage.split("\n").every((l) => l === "Usage:" || l.includes(` ${sub}`) || l.includes(`|${sub}`)),
      ).toBe(true);
      const whole = await runPvrlink([cmd, "--help"]);
      expect(r.stdout.length).toBeLessThan(whole.stdout.length);
      expect((await runPvrlink(["help", cmd, sub])).stdout).toBe(r.stdout);
    });
  }

  test("pvrlink send --help is send's help", async () => {
    const r = await runPvrlink(["send", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Usage: pvrlink send FILE|ID --to NAME");
  });

  for (const cmd of COMMANDS) {
    test(`pvrlink ${cmd} --help names no file that does not ship (no docs/ or source path)`, async () => {
      const r = await runPvrlink([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/docs\/|\w\.ts\b|firmware\/|README\.md/);
    });
  }

  const topics: [string, string][] = [
    ["protocol", "docs/protocol.md"],
    ["security", "docs/security.md"],
    ["daemon", "firmware/recorder/README.md"],
    ["split-format", "docs/split-format.md"],
  ];
  for (const [topic, file] of topics) {
    test(`pvrlink help ${topic} prints ${file} from the binary, from a directory without it`, async () => {
      const cwd = mkdtempSync(join(tmpdir(), "pvrlink-help-"));
      try {
        const p = Bun.spawn([join(ROOT, "dist/pvrlink-linux-x64"), "help", topic], { cwd, stdout: "pipe" });
        const out = await new Response(p.stdout).text();
        expect(await p.exited).toBe(0);
        expect(out.trimEnd()).toBe(readFileSync(join(ROOT, file), "utf8").trimEnd());
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  }

  test("pvrlink help lists the topics; an unknown topic exits 2 with the list", async () => {
    const listed = await runPvrlink(["help"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("Help topics (pvrlink help TOPIC):");
    const bad = await runPvrlink(["help", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("no command or topic 'nope'");
    expect(bad.stderr).toContain("  protocol ");
  });
});

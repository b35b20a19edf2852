/** @module `pvrlink demo` run from the compiled binary: the shipped harness starts a node and two recorders, and every step holds. */
import { expect, test } from "bun:test";
import { runToEnd } from "../../demo/child-process.ts";
import { binary } from "../support/e2e-stage.ts";

test.each([
  [
    "the steps",
    [],
    0,
    ["byte-identical: yes", "permission_denied", "mode store", "his library holds it once: yes"],
  ],
  ["every child's log line with --verbose", ["--verbose"], 0, ["   [node] ", "   [bob] ", "recorder filed"]],
  ["a usage error for an argument", ["extra"], 2, ["demo takes no arguments"]],
] as const)(
  "pvrlink demo prints %s",
  async (_, flags, code, expected) => {
    const r = await runToEnd([binary(), "demo", ...flags]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(code);
    for (const text of expected) expect(out).toContain(text);
  },
  60_000,
);

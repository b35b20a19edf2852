/** @module The folder rules hold on the repository, and each rule fails, naming the files, on a tree that breaks it. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FOLDER_RULES, type FolderRule } from "./folder-rules.ts";
import {
  folderOf,
  isTestCode,
  readSourceTree,
  type SourceFile,
  sourceFile,
  specifiersOf,
  stripComments,
} from "./import-graph.ts";

const ROOT = join(import.meta.dir, "../..");
const TREE = readSourceTree(ROOT).filter((f) => !isTestCode(f.path));

const rule = (name: string): FolderRule => {
  const r = FOLDER_RULES.find((x) => x.name === name);
  if (!r) throw new RangeError(`No folder rule named ${name}`);
  return r;
};

const tree = (files: Record<string, string>): SourceFile[] =>
  Object.entries(files).map(([path, src]) => sourceFile(path, src));

describe("the repository", () => {
  test("has the code folders the rules read", () => {
    const folders = new Set(TREE.map((f) => f.folder));
    for (const f of ["bin", "cli", "codec/container", "control/store", "firmware/send", "demo", "tools"])
      expect(folders).toContain(f);
    expect(TREE.length).toBeGreaterThan(150);
  });

  test.each(FOLDER_RULES.map((r) => [r.name, r] as const))("%s", (_, r) => {
    expect(r.check(TREE)).toEqual([]);
  });
});

/** Each rule against a small tree that breaks it (and one that keeps it): the rule must name the files. */
const CASES: {
  rule: string;
  files: Record<string, string>;
  /** Substrings the report must contain; empty means the tree keeps the rule. */
  report: string[];
  /** Substrings it must not contain (what looks like a breach but is not). */
  not?: string[];
}[] = [
  {
    rule: "no folder imports a folder that imports it back",
    files: {
      "control/store/a.ts": 'import { b } from "../query/b.ts";',
      "control/query/b.ts": 'import type { a } from "../store/a.ts";',
    },
    report: [
      "control/query -> control/store (control/query/b.ts)",
      "control/store -> control/query (control/store/a.ts)",
    ],
  },
  {
    rule: "no folder imports a folder that imports it back",
    files: {
      "firmware/send/a.ts": 'export { b } from "../load/b.ts";',
      "firmware/load/b.ts": 'import { c } from "../../protocol/c.ts";',
      "protocol/c.ts": 'const a = await import("../firmware/send/a.ts");',
    },
    report: [
      "import cycle firmware/load / firmware/send / protocol",
      "protocol -> firmware/send (protocol/c.ts)",
    ],
  },
  {
    rule: "no folder imports a folder that imports it back",
    files: {
      "control/store/a.ts": 'import { b } from "./b.ts";\nimport { c } from "../../crypto/c.ts";',
      "control/store/b.ts": 'import { a } from "./a.ts";',
      "crypto/c.ts": 'import { x } from "node:crypto";',
    },
    report: [],
  },
  {
    rule: "production code imports nothing from test/",
    files: { "codec/container/x.ts": 'import { k } from "../../test/support/kit.ts";' },
    report: ["codec/container/x.ts imports test/support/kit.ts"],
    not: ["bench"],
  },
  {
    rule: "production code imports nothing from test/",
    files: {
      "codec/container/x.test.ts": 'import { k } from "../../test/support/kit.ts";',
      "test/e2e/y.ts": 'import { k } from "../support/kit.ts";',
    },
    report: [],
  },
  {
    rule: "production code does not import bun:test",
    files: { "firmware/direct/kit.ts": 'import { expect } from "bun:test";' },
    report: ["firmware/direct/kit.ts imports bun:test"],
  },
  {
    rule: "bench/ takes test code only from kits: test/support/ and the netns bed in test/net/",
    files: {
      "bench/control.ts":
        'import { A } from "../test/control/agent.ts";\nimport { B } from "../test/support/b.ts";',
    },
    report: ["bench/control.ts imports test/control/agent.ts"],
  },
  {
    rule: "codec/ imports only codec/, errors/ and modules without I/O",
    files: {
      "codec/x.ts": 'import { readFileSync } from "node:fs";',
      "codec/split/y.ts":
        'import { createHash } from "node:crypto";\nimport { z } from "../../firmware/files/z.ts";',
      "codec/container/w.ts": 'import * as mp4 from "mp4box";\nimport type { Socket } from "net";',
    },
    not: ["node:crypto", "mp4box"],
    report: [
      "codec/x.ts imports node:fs",
      "codec/split/y.ts imports firmware/files/z.ts",
      "codec/container/w.ts imports net",
    ],
  },
  {
    rule: "codec/ uses no I/O, clock or logging globals",
    files: {
      "codec/a.ts": "const b = await Bun.file(p).bytes();\n// Bun.write is named in a comment only\n",
      "codec/b.ts": "const t = Date.now(); console.log(t);",
      "codec/c.ts": "/* fetch( */ const d = new Date(0);",
    },
    report: ["codec/a.ts uses Bun.file", "codec/b.ts uses Date.now(, console."],
    not: ["Bun.write", "codec/c.ts"],
  },
];

describe("each folder rule", () => {
  test.each(CASES.map((c) => [c.rule, c.report.length ? "names" : "passes", c] as const))(
    "%s: %s",
    (_, __, c) => {
      const report = rule(c.rule).check(tree(c.files));
      if (c.report.length === 0) expect(report).toEqual([]);
      for (const want of c.report) expect(report.join("\n")).toContain(want);
      for (const unwanted of c.not ?? []) expect(report.join("\n")).not.toContain(unwanted);
    },
  );

  test("every rule has a case that breaks it", () => {
    const broken = new Set(CASES.filter((c) => c.report.length).map((c) => c.rule));
    expect([...broken].sort()).toEqual(FOLDER_RULES.map((r) => r.name).sort());
  });
});

describe("the import reader", () => {
  test.each([
    ['import { a } from "./a.ts";', ["./a.ts"]],
    ['import type {\n  A,\n  B,\n} from "../b.ts";', ["../b.ts"]],
    ['export { c } from "./c.ts";\nexport * from "./d.ts";', ["./c.ts", "./d.ts"]],
    ['import "./side-effect.ts";', ["./side-effect.ts"]],
    ['const m = await import("./lazy.ts");', ["./lazy.ts"]],
    ['const s = "import { x } from nowhere";', []],
  ] as const)("specifiersOf(%j)", (src, want) => {
    expect(specifiersOf(src)).toEqual([...want]);
  });

  test.each([
    ["codec/container/ts-packet.ts", "codec/container"],
    ["codec/recording-index.ts", "codec"],
    ["bench/lib/measure.ts", "bench/lib"],
    ["bin/pvrlink.ts", "bin"],
  ] as const)("folderOf(%s) is %s", (path, want) => {
    expect(folderOf(path)).toBe(want);
  });

  test("stripComments() keeps strings that look like comments", () => {
    expect(stripComments('const u = "http://x"; // gone\n/* gone */ const v = 1;')).toBe(
      'const u = "http://x"; \n const v = 1;',
    );
  });
});

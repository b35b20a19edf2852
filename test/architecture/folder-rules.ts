/** @module The folder rules of the house (DEVELOPERS.md), each a check over the source files that names the files breaking it. */
import { isTestCode, type SourceFile } from "./import-graph.ts";

export interface FolderRule {
  /** What must hold, as the failing test names it. */
  name: string;
  /** One line per breach, each naming the files; empty when the rule holds. */
  check(files: readonly SourceFile[]): string[];
}

/** Code the binary ships or the build runs: not a test, not test/, not the benchmarks (they run from a checkout). */
const isProduction = (f: SourceFile): boolean => !isTestCode(f.path) && f.folder.split("/")[0] !== "bench";

/** Modules that reach files, sockets, processes or the host: the codec takes bytes and returns records. */
const IO_MODULE =
  /^(?:node:)?(?:fs|fs\/promises|net|dgram|http|https|http2|tls|child_process|cluster|os|worker_threads|readline|process|dns)$|^bun:(?:sqlite|ffi)$|^bun$/;

/** Globals that do I/O, read a clock or log (the same bytes must always give the same index). */
const IO_GLOBAL =
  /\bBun\.(?:file|write|spawn|spawnSync|serve|listen|connect|udpSocket|stdin|stdout|stderr|env|sleep|nanoseconds)\b|\bfetch\(|\bprocess\.(?:env|argv|stdin|stdout|stderr|exit|hrtime)\b|\bconsole\.|\bDate\.now\(|\bperformance\.now\(|\bnew Date\(\)/g;

/**
 * Folder-level import cycles (Tarjan's strongly connected components over folders, files of one folder
 * merged): a folder that imports a folder that imports it back, directly or through others. Each cycle is
 * reported with the files that make each of its edges.
 */
function folderCycles(files: readonly SourceFile[]): string[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const edgeFiles = new Map<string, Map<string, Set<string>>>();
  for (const f of files)
    for (const target of f.imports) {
      const t = byPath.get(target);
      if (!t || t.folder === f.folder) continue;
      const out = edgeFiles.get(f.folder) ?? edgeFiles.set(f.folder, new Map()).get(f.folder);
      const via = out?.get(t.folder) ?? out?.set(t.folder, new Set()).get(t.folder);
      via?.add(f.path);
    }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of edgeFiles.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    if (component.length > 1) components.push(component.sort());
  };
  for (const v of [...edgeFiles.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => {
    const inCycle = new Set(c);
    const edges = c.flatMap((from) =>
      [...(edgeFiles.get(from) ?? [])]
        .filter(([to]) => inCycle.has(to))
        .map(([to, via]) => `${from} -> ${to} (${[...via].sort().join(", ")})`),
    );
    return `import cycle ${c.join(" / ")}: ${edges.join("; ")}`;
  });
}

interface Forbidden {
  /** A package or built-in module specifier ("node:fs", "bun:test", "mp4box"). */
  module?: (specifier: string) => boolean;
  /** A repository file a relative import resolves to ("test/support/seeded-random.ts"). */
  path?: (path: string) => boolean;
}

/** Files matching `pick` that import a module or a repository file that `bad` forbids, one line each. */
function importsOf(files: readonly SourceFile[], pick: (f: SourceFile) => boolean, bad: Forbidden): string[] {
  return files.filter(pick).flatMap((f) => {
    const hits = [
      ...f.specifiers.filter((s) => !s.startsWith(".") && (bad.module?.(s) ?? false)),
      ...f.imports.filter((p) => bad.path?.(p) ?? false),
    ];
    return hits.length ? [`${f.path} imports ${[...new Set(hits)].join(", ")}`] : [];
  });
}

export const FOLDER_RULES: readonly FolderRule[] = [
  { name: "no folder imports a folder that imports it back", check: folderCycles },
  {
    name: "production code imports nothing from test/",
    check: (files) => importsOf(files, isProduction, { path: (p) => p.startsWith("test/") }),
  },
  {
    name: "production code does not import bun:test",
    check: (files) => importsOf(files, isProduction, { module: (s) => s === "bun:test" }),
  },
  {
    name: "bench/ takes test code only from kits: test/support/ and the netns bed in test/net/",
    check: (files) =>
      importsOf(files, (f) => !isTestCode(f.path) && f.folder.split("/")[0] === "bench", {
        // The NAT bench runs the network tests' own bed (routers in namespaces), never a test file.
        path: (p) =>
          p.startsWith("test/") &&
          !p.startsWith("test/support/") &&
          !(p.startsWith("test/net/") && !p.slice("test/net/".length).includes("/") && !p.includes(".test.")),
      }),
  },
  {
    name: "codec/ imports only codec/, errors/ and modules without I/O",
    check: (files) =>
      importsOf(files, (f) => isProduction(f) && f.folder.split("/")[0] === "codec", {
        module: (s) => IO_MODULE.test(s),
        // errors/ is pure too (classes and codes, nothing else), and the one place coded errors are made.
        path: (p) => !p.startsWith("codec/") && !p.startsWith("errors/"),
      }),
  },
  {
    name: "codec/ uses no I/O, clock or logging globals",
    check: (files) =>
      files
        .filter((f) => isProduction(f) && f.folder.split("/")[0] === "codec")
        .flatMap((f) => {
          const uses = [...new Set([...f.code.matchAll(IO_GLOBAL)].map((m) => m[0]))];
          return uses.length ? [`${f.path} uses ${uses.join(", ")}`] : [];
        }),
  },
];

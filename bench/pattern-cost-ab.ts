/** @module `bun bench/pattern-cost-ab.ts OTHER_TREE`: seed and slice-block 1:9 CPU of this tree and of another checkout (e.g. the commit before a change) in the same interleaved rounds, one process. */
import { join } from "node:path";
import { lowMedianHigh } from "./lib/measure.ts";

// On the shared 2-core machine a ratio moves by ±0.2 between runs of `bun bench/leak.ts --cost`: neighbours come
// and go between its runs. Here both trees' seed and pattern runs share each round, so a change is read against
// the code before it under the same load. Make the other tree with e.g.
//   git archive COMMIT | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
// The recordings are this tree's bench/out/bench.{m2v,ts} (`bun bench/leak.ts --cost` makes them).

const ROUNDS = Number(process.env.BENCH_RUNS ?? 4);
const HERE = join(import.meta.dir, "..");

interface Tree {
  name: string;
  splitCost: (bytes: Uint8Array, key: Uint8Array, scheme?: unknown) => Promise<{ cpu: number }>;
  scheme: unknown;
}

async function load(name: string, root: string): Promise<Tree> {
  const cost = await import(join(root, "bench", "lib", "leak-cost.ts"));
  const schemes = await import(join(root, "codec", "pattern", "pattern-scheme.ts"));
  return { name, splitCost: cost.splitCost, scheme: schemes.DEFAULT_PATTERN_SCHEME };
}

async function main(): Promise<void> {
  const other = process.argv[2];
  if (other === undefined) throw new TypeError("usage: bun bench/pattern-cost-ab.ts OTHER_TREE");
  const trees = [await load(`other (${other})`, other), await load("this tree", HERE)];
  const key = crypto.getRandomValues(new Uint8Array(32));
  for (const file of ["bench.m2v", "bench.ts"]) {
    const bytes = new Uint8Array(await Bun.file(join(HERE, "bench", "out", file)).arrayBuffer());
    const gib = bytes.length / 2 ** 30;
    const best = trees.map(() => ({ seed: Infinity, pattern: Infinity }));
    const ratios = trees.map((): number[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of trees.entries()) {
        const seed = (await t.splitCost(bytes, key)).cpu;
        const pattern = (await t.splitCost(bytes, key, t.scheme)).cpu;
        best[i]!.seed = Math.min(best[i]!.seed, seed);
        best[i]!.pattern = Math.min(best[i]!.pattern, pattern);
        ratios[i]!.push(pattern / seed);
      }
    }
    const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
    console.log(
      `\n${file} (${(bytes.length / 2 ** 20).toFixed(0)} MiB), best of ${ROUNDS} interleaved rounds, load ${load}\n`,
    );
    console.log(
      "| tree | seed CPU s/GiB | slice-block 1:9 CPU s/GiB | vs seed | rounds vs their seed (low / median / high) |",
    );
    console.log("|---|---|---|---|---|");
    for (const [i, t] of trees.entries()) {
      const b = best[i]!;
      console.log(
        `| ${t.name} | ${(b.seed / gib).toFixed(2)} | ${(b.pattern / gib).toFixed(2)} | ${(b.pattern / b.seed).toFixed(2)}× | ${lowMedianHigh(
          ratios[i]!,
        )
          .map((x) => x.toFixed(2))
          .join(" / ")} |`,
      );
    }
  }
}

if (import.meta.main) await main();

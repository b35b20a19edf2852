/** @module Test helper: every recording committed in testdata/ (ES and containers), for the pattern tests. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const TESTDATA = join(import.meta.dir, "../../testdata");

/** Every recording in testdata/es and testdata/containers, as [dir/name, bytes], sorted. */
export function patternFixtures(): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  for (const dir of ["es", "containers"]) {
    for (const f of readdirSync(join(TESTDATA, dir)).sort()) {
      if (f.endsWith(".json") || f.endsWith(".sh")) continue;
      out.push([`${dir}/${f}`, new Uint8Array(readFileSync(join(TESTDATA, dir, f)))]);
    }
  }
  return out;
}

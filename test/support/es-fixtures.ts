/** @module Locates and loads the elementary-stream fixtures in testdata/es (made by testdata/make-es.sh). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ES_FIXTURE_DIR = join(import.meta.dir, "../../testdata/es");

/** Names of the committed ES fixtures (each has NAME.ffprobe.json beside it). */
export function esFixtureNames(): string[] {
  return readdirSync(ES_FIXTURE_DIR)
    .filter((f) => /\.m[12]v$/.test(f))
    .sort();
}

export function loadEsFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ES_FIXTURE_DIR, name)));
}

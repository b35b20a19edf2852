/** @module Attack (issue 21 item 5), compiled binary: alice's own box seals "grandma" as the sender of a relayed recording. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob();
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

test("a relayed recording whose sealed manifest claims 'grandma' is filed under the session's caller, alice", async () => {
  // alice owns her box: she renames herself in her credential, which is what her sender seals in the manifest.
  const credPath = join(cluster.recorder("alice").dataDir, "credential.json");
  const cred = JSON.parse(await readFile(credPath, "utf8")) as { name: string };
  await writeFile(credPath, JSON.stringify({ ...cred, name: "grandma" }), { mode: 0o600 });
  // --secret: the whole recording travels sealed through the relay, manifest and all.
  const bob = cluster.recorder("bob");
  const mark = bob.proc.lines.length;
  const run = await sendToBob(cluster, SAMPLE, ["--secret"]);
  expect(run.code).toBe(0);
  // The send ends once the node holds the upload; bob fetches and files it after that, on his own time.
  await bob.proc.waitForLine(/recorder filed /, { timeoutMs: 30_000, since: mark });
  const filed = (await libraryOf(cluster, "bob")).filter((r) => r.sender !== null);
  expect(filed.map((r) => r.sender)).toEqual(["alice"]);
});

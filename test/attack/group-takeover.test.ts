/** @module Attack (issue 21 item 1), compiled binary: a stranger re-creates a deleted group's name to inherit its place in an allow-list. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Cluster } from "../../demo/cluster.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { startCluster } from "../support/e2e-stage.ts";
import { summaryOf } from "../support/send-summary.ts";

const SAMPLE = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster();
  for (const name of ["alice", "bob", "carol"]) await cluster.addRecorder(name);
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

async function permit(name: string, args: string[]): Promise<number> {
  return (await cluster.recorderRun(name, ["permit", ...args])).code;
}

test("carol cannot take over bob's deleted @family: her group of that name is refused and her send is permission_denied", async () => {
  for (const args of [
    ["group", "create", "family"],
    ["group", "add", "family", "alice"],
    ["add", "@family"],
    ["group", "delete", "family"],
  ]) {
    expect({ args, code: await permit("bob", args) }).toEqual({ args, code: 0 });
  }
  const list = await cluster.recorderRun("bob", ["permit", "list", "--json"]);
  expect(list.stdout).not.toContain("@family");

  // The attack: the name is bob's for good, so carol's group never exists ...
  expect(await permit("carol", ["group", "create", "family"])).toBe(1);
  expect(await permit("carol", ["group", "add", "family", "carol"])).toBe(1);
  // ... and her send gets neither a session nor bob's address.
  const run = await cluster.recorderRun("carol", ["send", SAMPLE, "--to", "bob", "--json"]);
  expect(run.code).toBe(1);
  expect(summaryOf(run.stdout).code).toBe("permission_denied");
  expect(run.stdout + run.stderr).not.toContain(`:${cluster.recorder("bob").direct.port}`);
});

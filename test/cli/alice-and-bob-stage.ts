/** @module For test/cli: one alice-and-bob cluster per test file (bob permits alice), started before and disposed after. */
import { afterAll, beforeAll } from "bun:test";
import type { Cluster } from "../../demo/cluster.ts";
import { startAliceAndBob } from "../support/e2e-stage.ts";

/** Registers the file's beforeAll/afterAll; the returned function gives the running cluster inside tests. */
export function aliceAndBobStage(): () => Cluster {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startAliceAndBob();
  });
  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });
  return () => {
    if (cluster === undefined)
      throw new Error("the alice-and-bob cluster is not running (used outside a test?)");
    return cluster;
  };
}

/** @module Attack (issue 21 item 10), real node process: one enrollment token asked about name after name, as an oracle for which names exist. */
import { expect, test } from "bun:test";
import { startNode } from "../support/control-node.ts";

test("one enrollment token answers name_taken only a few times, then is spent for any name", async () => {
  await using node = await startNode();
  await node.enroll("alice");
  const { token } = await node.admin.enrollmentToken();
  const ask = async (name: string) => {
    const res = await fetch(`${node.baseUrl}/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, name }),
    });
    const body = (await res.json()) as { error?: { code: string } };
    return `${res.status} ${body.error?.code ?? "ok"}`;
  };
  const answers = [];
  for (const name of ["alice", "ALICE", "alice", "carol-not-enrolled", "alice"])
    answers.push(await ask(name));
  expect(answers).toEqual([
    "409 name_taken",
    "409 name_taken",
    "409 name_taken",
    "401 invalid_token",
    "401 invalid_token",
  ]);
});

/** @module Shared steps of the issue-17 seed tests: a small data recording sent over an open direct channel. */
import { expect } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import type { DirectConnection } from "../../firmware/direct/direct-connection.ts";

/** OFFER, DATA and END of `size` random bytes as a data recording; expects the callee's verified RECEIPT, then closes. */
export async function sendDataAndExpectReceipt(
  conn: DirectConnection,
  name: string,
  size: number,
): Promise<void> {
  const payload = randomBytes(size);
  const sha256 = createHash("sha256").update(payload).digest("hex");
  await conn.send({
    type: "offer",
    kind: "data",
    size,
    name,
    meta: { sha256, recordingType: "data", secret: false },
  });
  await conn.sendData(payload);
  await conn.send({ type: "end", size, sha256 });
  expect(await conn.receive()).toMatchObject({ type: "receipt", ok: true, sha256 });
  await conn.close();
}

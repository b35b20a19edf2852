/** @module Puts one complete store-and-forward item in a running node's spool, through the real device API, for operator tests. */
import { createHash } from "node:crypto";
import type { NodeProcess } from "./control-node.ts";
import { DeviceAgent } from "./device-agent.ts";

export interface StoredItem {
  caller: { id: string; name: string; secret: string };
  callee: { id: string; name: string; secret: string };
  transferId: string;
  sessionId: string;
  data: Uint8Array;
}

/** Enrolls PREFIX-caller and PREFIX-callee, has the callee answer busy, and uploads `bytes` for it to fetch later. */
export async function storeItem(node: NodeProcess, prefix: string, bytes = 50_000): Promise<StoredItem> {
  const caller = await node.enroll(`${prefix}-caller`);
  const callee = await node.enroll(`${prefix}-callee`);
  const a = node.client(caller);
  const b = node.client(callee);
  await b.updateAllowList({ create: [caller.name] });
  await b.register("127.0.0.1", 7001);
  await using agent = await DeviceAgent.start(callee, node.udp);
  agent.answer = (t) => (t.kind === "status" ? "busy" : undefined);
  await agent.keepalive();
  const q = await a.query(callee.name, { storeIfBusy: true });
  if (q.status !== 202) throw new Error(`expected a store session, got ${q.status}`);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + 3) & 0xff;
  const t = await a.createTransfer({ session: q.session.id, size: bytes, kind: "store", label: "rec.ts" });
  await a.uploadData(t.transfer.id, 0, data);
  const sha256 = createHash("sha256").update(data).digest("hex");
  await a.completeTransfer(t.transfer.id, { size: bytes, sha256 });
  return { caller, callee, transferId: t.transfer.id, sessionId: q.session.id, data };
}

/** @module The relay transfers of a send: created on the node with their sealed size, uploaded whole from the file. */
import { ControlApiError } from "../../protocol/control-client.ts";
import { relayStreamSize } from "../transfer/relay-stream-encoder.ts";
import { encodeFromFile, manifestFor, type RelayPart } from "./relay-sources.ts";
import { completeUpload } from "./relay-upload.ts";
import { SendFailure } from "./send-failure.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

export async function createRelay(
  o: SendOptions,
  sessionId: string,
  part: RelayPart,
  result: SendResult,
  sibling?: string,
  kind: "relay" | "store" = "relay",
): Promise<{ id: string; size: number }> {
  const size = relayStreamSize(manifestFor(o.plan, part, o.deviceName, sibling));
  try {
    const { transfer } = await o.client.createTransfer({
      session: sessionId,
      size,
      kind,
      label: o.plan.name,
    });
    result.transfers.push(transfer.id);
    return { id: transfer.id, size };
  } catch (err) {
    if (err instanceof ControlApiError)
      throw new SendFailure(err.code, `the node refused the relay transfer: ${err.message}`);
    throw err;
  }
}

export async function uploadFromFile(
  o: SendOptions,
  sessionId: string,
  key: CryptoKey,
  transfer: { id: string; size: number },
  part: RelayPart,
  result: SendResult,
  signal: AbortSignal,
  deadline: () => number,
): Promise<void> {
  const manifest = manifestFor(o.plan, part, o.deviceName);
  let counted = 0;
  const source = async function* () {
    counted = 0;
    for await (const rec of encodeFromFile(key, sessionId, o.plan, part, manifest)) {
      if (signal.aborted) throw signal.reason;
      counted += rec.byteLength;
      o.onEvent?.({
        type: "progress",
        done: Math.min(o.plan.size, Math.floor((counted / transfer.size) * o.plan.size)),
        total: o.plan.size,
      });
      yield rec;
    }
  };
  const r = await completeUpload(o.client, transfer, undefined, source, {
    log: (m) => o.onEvent?.({ type: "log", message: m }),
    signal,
    deadline,
  });
  result.bytesRelay += transfer.size;
  if (r.attempts > 1)
    o.onEvent?.({ type: "log", message: `relay upload resumed and completed (${r.attempts} attempts)` });
}

export async function uploadWhole(
  o: SendOptions,
  sessionId: string,
  key: CryptoKey,
  kind: "store",
  result: SendResult,
  signal: AbortSignal,
  deadline: () => number,
): Promise<void> {
  const transfer = await createRelay(o, sessionId, "whole", result, undefined, kind);
  await uploadFromFile(o, sessionId, key, transfer, "whole", result, signal, deadline);
  result.bytesRelayPayload = o.plan.size;
}

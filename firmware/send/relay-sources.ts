/** @module Fresh encodings of a recording's relay streams from its file: what a resumed upload re-seals and skips into. */

import { InputError } from "../../cli/command.ts";
import { RangeRouter } from "../../codec/split/range-router.ts";
import { openInput, readChunks } from "../files/recording-file.ts";
import {
  RELAY_STREAM_DIRECT,
  RELAY_STREAM_PROTECTED,
  RELAY_STREAM_WHOLE,
  type RelayManifest,
  type RelayStreamId,
} from "../transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../transfer/relay-stream-encoder.ts";
import type { SendPlan } from "./send-plan.ts";

export type RelayPart = "whole" | "protected" | "direct";

export const STREAM_OF: Record<RelayPart, RelayStreamId> = {
  whole: RELAY_STREAM_WHOLE,
  protected: RELAY_STREAM_PROTECTED,
  direct: RELAY_STREAM_DIRECT,
};

/** The manifest (record 0) of one relay stream of a plan. */
export function manifestFor(
  plan: SendPlan,
  part: RelayPart,
  sender: string,
  siblingTransferId?: string,
): RelayManifest {
  const size =
    part === "whole"
      ? plan.size
      : part === "protected"
        ? (plan.split?.protectedSize ?? 0)
        : (plan.split?.directSize ?? 0);
  return {
    name: plan.name,
    kind: part === "whole" ? "whole" : part === "protected" ? "split-protected" : "split-direct",
    size,
    originalSize: plan.size,
    sha256: plan.sha256,
    recordingType: plan.recordingType,
    secret: plan.secret,
    sender,
    ...(siblingTransferId !== undefined ? { siblingTransferId } : {}),
  };
}

/**
 * Encodes one relay stream of the plan from the file, start to end: MANIFEST, the part's payload (the split
 * header then the routed body, or the whole file), END. A file that changed length since pass 1 is refused.
 */
export async function* encodeFromFile(
  key: CryptoKey,
  sessionId: string,
  plan: SendPlan,
  part: RelayPart,
  manifest: RelayManifest,
): AsyncGenerator<Uint8Array> {
  const enc = new RelayStreamEncoder(key, sessionId, STREAM_OF[part]);
  yield await enc.manifest(manifest);
  await using input = await openInput(plan.path);
  const router =
    part === "whole" || plan.split === undefined ? undefined : new RangeRouter(plan.split.ranges, plan.size);
  if (plan.split && part !== "whole") {
    yield* await enc.data(part === "protected" ? plan.split.protectedHeader : plan.split.directHeader);
  }
  let size = 0;
  for await (const chunk of readChunks(input, { reuse: true })) {
    size += chunk.byteLength;
    if (size > plan.size) break;
    if (router === undefined) {
      yield* await enc.data(chunk);
      continue;
    }
    const routed = router.push(chunk);
    for (const piece of part === "protected" ? routed.protected : routed.direct) yield* await enc.data(piece);
  }
  if (size !== plan.size) {
    throw new InputError(
      `Cannot send ${plan.path}: it changed while being sent (${size} bytes, expected ${plan.size})`,
      "ERR_SEND_SOURCE_CHANGED",
    );
  }
  yield* await enc.end();
}

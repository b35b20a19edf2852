/** @module Sends a recording, and once more through the relay only when its direct path broke mid-transfer. */
import { shouldResendThroughRelay } from "./resend-through-relay.ts";
import { sendRecording } from "./send-recording.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

/** Sends; when a direct path broke mid-transfer, sends once more through the relay only, in a new session. */
export async function sendWithRelayResend(
  options: SendOptions,
  announce: (message: string) => void,
): Promise<SendResult> {
  const first = await sendRecording(options);
  if (!shouldResendThroughRelay(first)) return first;
  announce(first.message);
  const result = await sendRecording({ ...options, relayOnly: true });
  result.firstAttempt = {
    ...(first.sessionId ? { sessionId: first.sessionId } : {}),
    ...(first.code ? { code: first.code } : {}),
    message: first.message,
    ...(first.directPath ? { directPath: first.directPath } : {}),
    bytesDirect: first.bytesDirect,
  };
  return result;
}

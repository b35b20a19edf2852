/** @module The summary `pvrlink send` ends with: a JSON event, or lines saying what went which way and why. */
import { formatBytes } from "../progress/format-progress.ts";
import type { SendResult } from "../send/send-result.ts";

/** Writes the summary: one JSON event with --json, else lines (stdout when verified, stderr when not). */
export function printSendSummary(r: SendResult, json: boolean, next: string | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: "summary", ...r, ...(next ? { next } : {}) })}\n`);
    return;
  }
  const lines = [
    r.ok ? `sent: ${r.message}` : `not sent (${r.code}): ${r.message}${next ? `; ${next}` : ""}`,
  ];
  if (r.mode !== "none") {
    lines.push(
      `  route ${r.route}${r.mode === "store" ? " (stored on the node)" : ""}${r.fallback ? `; fallback: everything through the node (${r.fallbackReason})` : ""}`,
      `  route chosen by the ${r.rule} rule${r.rule === "size" ? " (under the recorder's sealedBelowBytes)" : ""}`,
      // Nothing direct (stored, secret, fallback) is said as such, not as "direct: 0 B".
      r.bytesDirect > 0
        ? `  direct: ${formatBytes(r.bytesDirect)} (${r.bytesDirect} bytes, ${r.protection === "sealed" ? "sealed" : "clear, authenticated"}${r.directPath ? `; path ${r.directPath}` : ""})`
        : "  direct: nothing (all of it sealed through the node)",
      `  through the node, encrypted: ${formatBytes(r.bytesRelay)} sealed (${r.bytesRelayPayload} payload bytes)`,
    );
    if (r.firstAttempt) {
      const f = r.firstAttempt;
      lines.push(
        `  first attempt: the ${f.directPath ?? "direct"} path broke after ${formatBytes(f.bytesDirect)} direct (${f.code ?? "failed"}); sent again through the node`,
      );
    }
    if (r.resumedFrom !== undefined)
      lines.push(
        r.resumedFrom > 0
          ? `  resumed: ${formatBytes(r.resumedFrom)} (${r.resumedFrom} bytes) were kept by the receiver from the interrupted send; only the rest was sent`
          : "  resumed: the receiver kept nothing of an interrupted send, so all of it was sent",
      );
    if (r.nodeHeld !== undefined)
      lines.push(
        `  resumed through the node: it held ${formatBytes(r.nodeHeld)} (${r.nodeHeld} sealed bytes) of the interrupted upload; only the rest was sent`,
      );
    if (r.iPictures !== undefined) lines.push(`  I-pictures protected: ${r.iPictures}`);
    if (r.protection === "pattern" && r.bytesDirect > 0)
      lines.push(
        `  pattern mode: ${r.patternBytes ?? 0} bytes of P/B slice starts encrypted on the direct channel`,
      );
    if (r.extensions > 0) lines.push(`  lease extensions: ${r.extensions}`);
    if (r.forcedEnd) lines.push("  the session was ended by the node or the peer");
  }
  (r.ok ? process.stdout : process.stderr).write(`${lines.join("\n")}\n`);
}

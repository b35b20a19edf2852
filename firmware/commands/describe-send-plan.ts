/** @module The one line `pvrlink send` prints about its plan: what goes which way, sealed or clear. */
import { formatBytes } from "../progress/format-progress.ts";
import type { SendPlan } from "../send/send-plan.ts";

/** What the plan sends which way: all sealed through the node, all direct, or split (and how the direct part travels). */
export function describeSendPlan(p: SendPlan): string {
  if (p.route === "small")
    return `${p.name}: ${p.recordingType}, ${formatBytes(p.size)}, below the size rule: all of it sealed through the node`;
  if (p.route === "secret")
    return `${p.name}: secret ${p.recordingType}, ${formatBytes(p.size)}: all of it sealed through the node`;
  if (p.route === "data")
    return `${p.name}: data, ${formatBytes(p.size)}: directly (${p.sealDirect ? "sealed" : "seed: clear, authenticated"})`;
  const s = p.split;
  const direct =
    s?.protection === "pattern"
      ? `directly with ${formatBytes(s.pattern?.encryptedBytes ?? 0)} of its P/B slices encrypted (pattern)`
      : s?.protection === "seed"
        ? "directly (seed: P/B pictures in clear)"
        : "directly, sealed";
  return `${p.name}: ${p.recordingType} video, ${formatBytes(p.size)}, ${s?.iPictures ?? 0} I-pictures: ${formatBytes(s?.protectedSize ?? 0)} protected part sealed through the node, ${formatBytes(s?.directSize ?? 0)} direct part ${direct}`;
}

/** @module patternFor(): the pattern encoder a split's direct part is sent with, or why it goes sealed instead (no channel, or a callee that cannot read the plan's header version). */
import type { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { patternHeaderVersionsOf } from "../../codec/pattern/pattern-header.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import type { SendContext } from "./send-context.ts";
import type { SplitPlanParts } from "./send-plan.ts";
import { patternEncoder } from "./split-pass.ts";

/**
 * Pattern mode applies to the direct part on the direct channel; through the relay (fallback) the part is
 * sealed whole already, so it travels plain there. The plan goes in the first of its header versions the callee's
 * ACCEPTED lists (docs/protocol.md, ACCEPTED `patternVersions`): a version 5 plan goes as version 1 (the same
 * rows, the table whole ahead of the body) to a callee from before version 5. A callee that lists none of the
 * plan's versions gets the direct part sealed instead: an older reader
 * would refuse the header (ERR_PATTERN_VERSION) only after the whole part had crossed, and no older version
 * is written in its place (a version 4 plan as version 2, or 3 as 1, lists a row per encrypted block: the
 * tables the newer versions exist to avoid), so sealing, the stronger protection, is what every reader takes.
 */
export async function patternFor(
  ctx: SendContext,
  split: SplitPlanParts,
): Promise<PatternDirectEncoder | undefined> {
  if (!split.pattern) return undefined;
  if (!ctx.conn) {
    // sendSplit() says "sealed" for every split without a channel: the direct part is sealed like the rest.
    ctx.log("pattern mode: the direct part goes sealed through the node, so it needs no pattern encryption");
    return undefined;
  }
  // The plan's versions, the preferred first: a callee from before version 5 gets version 1's whole table.
  const versions = patternHeaderVersionsOf(split.pattern);
  const version = versions.find((v) => ctx.conn!.peerPatternVersions.includes(v));
  if (version === undefined) {
    ctx.log(
      `${ctx.callee.name} runs an older pvrlink that cannot read this pattern header (version ${versions.join(" or ")}): the direct part goes sealed instead`,
    );
    ctx.sealInstead = true;
    ctx.result.protection = "sealed";
    return undefined;
  }
  // The send's one encoder takes the plan's unit runs (16 MB at 4.4 GB of TS) and frees them once its header holds
  // them (issue 14): a resend through the relay only (sendWithRelayResend) has no channel, so no pattern.
  const pattern = await patternEncoder(
    {
      ...split.pattern,
      version,
      handOverRuns: true,
      ...(split.headerSpill ? { headerSpill: split.headerSpill } : {}),
    },
    fromBase64url(ctx.session.key),
  );
  ctx.result.patternBytes = split.pattern.encryptedBytes;
  return pattern;
}

/** @module The hint a refused send prints: what to do next, by the refusal's code. */

/**
 * What to do after a refusal. permission_denied covers an unknown name and an unpermitted caller alike (the node
 * must not reveal which, docs/protocol.md), so its hint names both and depends only on what the user typed.
 */
export function nextStep(
  code: string | undefined,
  o: { to: string; me: string; storeIfBusy: boolean; storeOffered?: boolean },
): string | undefined {
  switch (code) {
    case "permission_denied":
      return `no recorder is called ${o.to}, or it has not permitted you (the node does not say which): check the name, and ask its owner to run 'pvrlink permit add ${o.me}'`;
    case "callee_not_found":
      return `${o.to} permits you but its recorder has not registered with the node: its owner should run 'pvrlink recorder run'`;
    case "callee_not_connected":
      return o.storeIfBusy
        ? `${o.to}'s recorder is off or offline: send again once it is on ('pvrlink recorder status' on that box shows its node connection)`
        : `${o.to}'s recorder is off or offline: rerun with --store-if-busy and the node keeps it, encrypted, until ${o.to} is back on`;
    case "callee_busy":
      return o.storeIfBusy || o.storeOffered === false
        ? `${o.to} is busy: send again later`
        : `${o.to} is busy: rerun with --store-if-busy and the node keeps it, encrypted, until ${o.to} picks it up`;
    case "session_ended":
      return "the node or the receiver ended the session: send again";
    case "resume_expired":
      return `the node no longer holds the interrupted upload: send it again without --resume`;
    default:
      return undefined;
  }
}

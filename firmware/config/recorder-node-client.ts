/** @module The ControlClient a recorder command talks to its node with: the credential, the node URL in force, and the config's fallback URLs (issue 16 item 3). */
import { toBase64url } from "../../crypto/random-token.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import type { DeviceCredential } from "./credential-store.ts";
import type { RecorderConfig } from "./recorder-config.ts";

/**
 * The node URL is the credential's (where it enrolled) unless `--node` was given or the credential holds only a
 * host; the config's `nodeUrlFallbacks` follow it, so a call that fails before any answer goes to the next node
 * of the cluster, as the daemon's and `send`'s do.
 */
export function recorderNodeClient(
  cred: DeviceCredential,
  config: RecorderConfig,
  o: { nodeFlag: boolean },
): ControlClient {
  const baseUrl = (o.nodeFlag || !cred.node.includes("://") ? config.nodeUrl : cred.node).replace(/\/$/, "");
  return new ControlClient({
    baseUrl,
    fallbackUrls: config.nodeUrlFallbacks,
    deviceId: cred.id,
    secret: toBase64url(cred.secretBytes()),
    trust: cred.trust,
  });
}

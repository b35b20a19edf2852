/** @module What the issue 21 attack tests share: a recorder's own signed API client, as a hostile device holding its credential would use it. */
import { join } from "node:path";
import { toBase64url } from "../../crypto/random-token.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { loadCredential } from "../../firmware/config/credential-store.ts";
import { ControlClient } from "../../protocol/control-client.ts";

/** The ControlClient of a recorder in the cluster, signed with its own credential. */
export async function clientOf(cluster: Cluster, name: string): Promise<ControlClient> {
  const cred = await loadCredential(join(cluster.recorder(name).dataDir, "credential.json"));
  return new ControlClient({
    baseUrl: cluster.nodeUrl,
    deviceId: cred.id,
    secret: toBase64url(cred.secretBytes()),
  });
}

/** Waits until the recorder has logged a line mentioning text (e.g. it fetched a session's ticket). */
export async function recorderLogged(cluster: Cluster, name: string, ...texts: string[]): Promise<string> {
  return cluster
    .recorder(name)
    .proc.waitForLine((l) => texts.every((t) => l.includes(t)), { timeoutMs: 15_000 });
}

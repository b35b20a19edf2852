/** @module Store-key bench: the HPKE store key per store send (sealStoreKey on the sender, openStoreKey on the callee) against mixSessionKey, the per-session key agreement, in the same run. */
import { openStoreKey, sealStoreKey } from "../crypto/hpke-store-key.ts";
import { randomToken } from "../crypto/random-token.ts";
import { mixSessionKey } from "../crypto/x25519-agreement.ts";
import { generateIdentity, loadIdentityPrivateKey } from "../crypto/x25519-identity.ts";
import { formatTable } from "./lib/format-table.ts";

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARM_UP = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** p50 and p99 of one async call, in ms, over CALLS calls after WARM_UP unmeasured ones. */
async function time(call: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < WARM_UP; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function main(): Promise<void> {
  const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
  const alice = await loadIdentityPrivateKey(a.privatePkcs8);
  const bob = await loadIdentityPrivateKey(b.privatePkcs8);
  const session = { sessionKey: randomToken(32), sessionId: "ses_bench" };
  const transferKey = await mixSessionKey({
    ...session,
    ownPrivateKey: alice,
    callerPublicKey: a.publicKey,
    calleePublicKey: b.publicKey,
    role: "caller",
  });
  const sealed = await sealStoreKey({
    calleePublicKey: b.publicKey,
    transferKey,
    sessionId: session.sessionId,
  });
  const rows = [
    [
      "mixSessionKey (reference: X25519 + HKDF, once per session per side)",
      await time(() =>
        mixSessionKey({
          ...session,
          ownPrivateKey: alice,
          callerPublicKey: a.publicKey,
          calleePublicKey: b.publicKey,
          role: "caller",
        }),
      ),
    ],
    [
      "sealStoreKey (sender: X25519 keygen + 1 DH, HPKE schedule, HKDF)",
      await time(() =>
        sealStoreKey({ calleePublicKey: b.publicKey, transferKey, sessionId: session.sessionId }),
      ),
    ],
    [
      "openStoreKey (callee: 1 DH, HPKE schedule, HKDF)",
      await time(() =>
        openStoreKey({
          enc: sealed.enc,
          calleePrivateKey: bob,
          calleePublicKey: b.publicKey,
          transferKey,
          sessionId: session.sessionId,
        }),
      ),
    ],
  ] as const;
  const ref = rows[0][1].p50;
  console.log(`${CALLS} calls after ${WARM_UP} warm-up, Bun ${Bun.version}`);
  console.log(
    formatTable(
      ["call", "p50 ms", "p99 ms", "p50 vs reference"],
      rows.map(([name, t]) => [name, t.p50.toFixed(3), t.p99.toFixed(3), `${(t.p50 / ref).toFixed(1)}x`]),
    ),
  );
}

await main();

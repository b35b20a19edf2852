/** @module Tests of mixSessionKey(): both recorders derive the same key; the session key alone, another identity or another session gives a different one. */
import { describe, expect, test } from "bun:test";
import { randomToken } from "./random-token.ts";
import { mixSessionKey } from "./x25519-agreement.ts";
import { generateIdentity, loadIdentityPrivateKey } from "./x25519-identity.ts";

async function identity() {
  const id = await generateIdentity();
  return { publicKey: id.publicKey, privateKey: await loadIdentityPrivateKey(id.privatePkcs8) };
}

/** A caller a, a callee b, and the session fields both feed in. */
async function pair() {
  const [a, b] = await Promise.all([identity(), identity()]);
  const base = { sessionKey: randomToken(32), sessionId: "ses_1", callerPublicKey: a.publicKey };
  return { a, b, base: { ...base, calleePublicKey: b.publicKey } };
}

describe("mixSessionKey()", () => {
  test("mixSessionKey() gives caller and callee the same 32-byte key, which differs from the node's", async () => {
    const { a, b, base } = await pair();
    const caller = await mixSessionKey({ ...base, ownPrivateKey: a.privateKey, role: "caller" });
    const callee = await mixSessionKey({ ...base, ownPrivateKey: b.privateKey, role: "callee" });
    expect(caller).toBe(callee);
    expect(Buffer.from(caller, "base64url").byteLength).toBe(32);
    expect(caller).not.toBe(base.sessionKey);
  });

  test.each([
    ["another session key", { sessionKey: randomToken(32) }],
    ["another session id", { sessionId: "ses_2" }],
  ])("mixSessionKey() changes with %s", async (_name, change) => {
    const { a, base } = await pair();
    const one = await mixSessionKey({ ...base, ownPrivateKey: a.privateKey, role: "caller" });
    const two = await mixSessionKey({ ...base, ...change, ownPrivateKey: a.privateKey, role: "caller" });
    expect(two).not.toBe(one);
  });

  test("mixSessionKey() under a substituted callee key (the node's own) does not match the real callee's", async () => {
    const [a, b, node] = await Promise.all([identity(), identity(), identity()]);
    const base = { sessionKey: randomToken(32), sessionId: "ses_1", callerPublicKey: a.publicKey };
    const fooled = await mixSessionKey({
      ...base,
      calleePublicKey: node.publicKey,
      ownPrivateKey: a.privateKey,
      role: "caller",
    });
    const real = await mixSessionKey({
      ...base,
      calleePublicKey: b.publicKey,
      ownPrivateKey: b.privateKey,
      role: "callee",
    });
    expect(fooled).not.toBe(real);
  });
});

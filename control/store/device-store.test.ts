/** @module Tests for DeviceStore on both backends: enrollment ids and secrets, unique names, latest registration, single-use tokens. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { checkDeviceName, DeviceStore, MAX_NAME_ATTEMPTS } from "./device-store.ts";

for (const bad of ["", "@group", "a b", "x".repeat(65), "ü", "a/b", "-x"]) {
  test(`checkDeviceName() rejects '${bad.slice(0, 12)}'`, () => {
    expect(() => checkDeviceName(bad)).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
}

describe.each(STORE_BACKENDS)("DeviceStore on %s", (kind) => {
  const backend = storeBackend(kind);

  test("enroll() issues dev_ ids and 32-byte secrets; names are unique case-insensitively", async () => {
    const s = new DeviceStore(await backend.open());
    const a = await s.enroll("+81-90-1234-5678");
    expect(a.id).toMatch(/^dev_[A-Za-z0-9_-]{16}$/);
    expect(Buffer.from(a.secret, "base64url").byteLength).toBe(32);
    expect(await s.secretOf(a.id)).toEqual(new Uint8Array(Buffer.from(a.secret, "base64url")));
    expect(s.cachedSecret(a.id)).toEqual(new Uint8Array(Buffer.from(a.secret, "base64url")));
    await s.enroll("Grandma@Example.jp");
    await expect(s.enroll("grandma@example.JP")).rejects.toMatchObject({ code: "name_taken" });
    expect((await s.byName("GRANDMA@example.jp"))?.name).toBe("Grandma@Example.jp");
    expect(await s.secretOf("dev_nope")).toBeNull();
    expect(s.cachedSecret("dev_nope")).toBeUndefined();
    expect((await s.list()).map((d) => d.name)).toEqual(["+81-90-1234-5678", "Grandma@Example.jp"]);
    expect(await s.count()).toBe(2);
  });

  test("remove() deletes the device and drops its cached secret", async () => {
    const s = new DeviceStore(await backend.open());
    const a = await s.enroll("a");
    await s.secretOf(a.id);
    expect(await s.remove(a.id)).toBe(true);
    expect(s.cachedSecret(a.id)).toBeUndefined();
    expect(await s.secretOf(a.id)).toBeNull();
    expect(await s.remove(a.id)).toBe(false);
  });

  test("registration: the latest wins", async () => {
    const s = new DeviceStore(await backend.open());
    const a = await s.enroll("a");
    expect(await s.registration(a.id)).toBeNull();
    await s.register(a.id, "192.0.2.1", 9000, 1);
    await s.register(a.id, "192.0.2.2", 9001, 2);
    expect(await s.registration(a.id)).toEqual({ address: "192.0.2.2", port: 9001, at: 2 });
  });

  test("enrollment tokens redeem once and expire", async () => {
    const s = new DeviceStore(await backend.open());
    const t = await s.createEnrollmentToken(60, 1000);
    expect((await s.redeemEnrollmentToken(t.token, "first", 2000)).name).toBe("first");
    await expect(s.redeemEnrollmentToken(t.token, "second", 2000)).rejects.toMatchObject({
      code: "invalid_token",
    });
    const late = await s.createEnrollmentToken(60, 1000);
    await expect(s.redeemEnrollmentToken(late.token, "late", 61_000)).rejects.toMatchObject({
      code: "invalid_token",
    });
    // A taken name leaves the token usable.
    const t2 = await s.createEnrollmentToken(60, 1000);
    await expect(s.redeemEnrollmentToken(t2.token, "FIRST", 2000)).rejects.toMatchObject({
      code: "name_taken",
    });
    expect((await s.redeemEnrollmentToken(t2.token, "third", 2000)).name).toBe("third");
  });

  test("one enrollment token redeemed twice at once enrolls one device", async () => {
    const s = new DeviceStore(await backend.open());
    const t = await s.createEnrollmentToken(60, 1000);
    const outcomes = await Promise.allSettled([
      s.redeemEnrollmentToken(t.token, "one", 2000),
      s.redeemEnrollmentToken(t.token, "two", 2000),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await s.count()).toBe(1);
  });

  test("an enrollment token answers name_taken at most MAX_NAME_ATTEMPTS times, then is spent (issue 21 item 10)", async () => {
    const s = new DeviceStore(await backend.open());
    await s.enroll("taken");
    const t = await s.createEnrollmentToken(60, 1000);
    const outcomes: string[] = [];
    for (const name of ["taken", "TAKEN", "taken", "free"]) {
      try {
        await s.redeemEnrollmentToken(t.token, name, 2000);
        outcomes.push("ok");
      } catch (err) {
        outcomes.push((err as { code: string }).code);
      }
    }
    expect(MAX_NAME_ATTEMPTS).toBe(3);
    expect(outcomes).toEqual(["name_taken", "name_taken", "name_taken", "invalid_token"]);
  });
});

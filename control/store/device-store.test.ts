/** @module Tests for DeviceStore: enrollment ids and secrets, unique names, latest registration, single-use tokens. */
import { expect, test } from "bun:test";
import { openControlDatabase } from "./control-database.ts";
import { checkDeviceName, DeviceStore, MAX_NAME_ATTEMPTS } from "./device-store.ts";

test("enroll() issues dev_ ids and 32-byte secrets; names are unique case-insensitively", () => {
  const s = new DeviceStore(openControlDatabase(":memory:"));
  const a = s.enroll("+81-90-1234-5678");
  expect(a.id).toMatch(/^dev_[A-Za-z0-9_-]{16}$/);
  expect(Buffer.from(a.secret, "base64url").byteLength).toBe(32);
  expect(s.secretOf(a.id)).toEqual(new Uint8Array(Buffer.from(a.secret, "base64url")));
  s.enroll("Grandma@Example.jp");
  expect(() => s.enroll("grandma@example.JP")).toThrow(expect.objectContaining({ code: "name_taken" }));
  expect(s.byName("GRANDMA@example.jp")?.name).toBe("Grandma@Example.jp");
  expect(s.secretOf("dev_nope")).toBeNull();
});

for (const bad of ["", "@group", "a b", "x".repeat(65), "ü", "a/b", "-x"]) {
  test(`checkDeviceName() rejects '${bad.slice(0, 12)}'`, () => {
    expect(() => checkDeviceName(bad)).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
}

test("registration: the latest wins", () => {
  const s = new DeviceStore(openControlDatabase(":memory:"));
  const a = s.enroll("a");
  expect(s.registration(a.id)).toBeNull();
  s.register(a.id, "192.0.2.1", 9000, 1);
  s.register(a.id, "192.0.2.2", 9001, 2);
  expect(s.registration(a.id)).toEqual({ address: "192.0.2.2", port: 9001, at: 2 });
});

test("enrollment tokens redeem once and expire", () => {
  const s = new DeviceStore(openControlDatabase(":memory:"));
  const t = s.createEnrollmentToken(60, 1000);
  expect(s.redeemEnrollmentToken(t.token, "first", 2000).name).toBe("first");
  expect(() => s.redeemEnrollmentToken(t.token, "second", 2000)).toThrow(
    expect.objectContaining({ code: "invalid_token" }),
  );
  const late = s.createEnrollmentToken(60, 1000);
  expect(() => s.redeemEnrollmentToken(late.token, "late", 61_000)).toThrow(
    expect.objectContaining({ code: "invalid_token" }),
  );
  // A taken name leaves the token usable.
  const t2 = s.createEnrollmentToken(60, 1000);
  expect(() => s.redeemEnrollmentToken(t2.token, "FIRST", 2000)).toThrow(
    expect.objectContaining({ code: "name_taken" }),
  );
  expect(s.redeemEnrollmentToken(t2.token, "third", 2000).name).toBe("third");
});

test("an enrollment token answers name_taken at most MAX_NAME_ATTEMPTS times, then is spent (issue 21 item 10)", () => {
  using db = openControlDatabase(":memory:");
  const s = new DeviceStore(db);
  s.enroll("taken");
  const t = s.createEnrollmentToken(60, 1000);
  const outcomes: string[] = [];
  for (const name of ["taken", "TAKEN", "taken", "free"]) {
    try {
      s.redeemEnrollmentToken(t.token, name, 2000);
      outcomes.push("ok");
    } catch (err) {
      outcomes.push((err as { code: string }).code);
    }
  }
  expect(MAX_NAME_ATTEMPTS).toBe(3);
  expect(outcomes).toEqual(["name_taken", "name_taken", "name_taken", "invalid_token"]);
});

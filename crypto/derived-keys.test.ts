/** @module Tests of DerivedKeys: derived once per secret, never kept past a new secret or a forget, bounded. */
import { describe, expect, test } from "bun:test";
import { DerivedKeys } from "./derived-keys.ts";

/** A derivation that counts its calls and marks its output with the secret's first byte. */
function counting() {
  let calls = 0;
  const derive = (secret: Uint8Array) => {
    calls++;
    return Uint8Array.of(secret[0]!, calls);
  };
  return { derive, calls: () => calls };
}

describe("DerivedKeys", () => {
  test("DerivedKeys.of() derives a device's key once while its secret stays the same", () => {
    const c = counting();
    const keys = new DerivedKeys(c.derive, 10);
    const secret = Uint8Array.of(7);
    const first = keys.of("dev_a", secret);
    expect(keys.of("dev_a", secret)).toBe(first);
    expect(c.calls()).toBe(1);
  });

  test("DerivedKeys.of() derives again for a new secret, even one with the same bytes", () => {
    const c = counting();
    const keys = new DerivedKeys(c.derive, 10);
    const before = keys.of("dev_a", Uint8Array.of(7));
    const after = keys.of("dev_a", Uint8Array.of(7));
    expect(after).not.toBe(before);
    expect(c.calls()).toBe(2);
  });

  test("DerivedKeys.forget() drops the key, so the next of() derives it again", () => {
    const c = counting();
    const keys = new DerivedKeys(c.derive, 10);
    const secret = Uint8Array.of(1);
    keys.of("dev_a", secret);
    keys.forget("dev_a");
    expect(keys.size).toBe(0);
    keys.of("dev_a", secret);
    expect(c.calls()).toBe(2);
  });

  test("DerivedKeys keeps at most max keys, starting over when full", () => {
    const keys = new DerivedKeys(counting().derive, 3);
    for (let i = 0; i < 3; i++) keys.of(`dev_${i}`, Uint8Array.of(i));
    expect(keys.size).toBe(3);
    keys.of("dev_3", Uint8Array.of(3));
    expect(keys.size).toBe(1);
  });

  for (const max of [0, -1, 1.5, Number.NaN]) {
    test(`new DerivedKeys() rejects max ${max}`, () => {
      expect(() => new DerivedKeys(counting().derive, max)).toThrow(RangeError);
    });
  }
});

/** @module resolveCalleeHost(): which resolved addresses the node may hand out and connect to, asked of a real DNS responder over UDP. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DnsResponder } from "../../test/support/dns-responder.ts";
import { hostResolver, resolveCalleeHost } from "./host-resolution.ts";

let dns: DnsResponder;
beforeAll(async () => {
  dns = await DnsResponder.start({
    "public.example": ["8.8.8.8"],
    "mixed.example": ["127.0.0.1", "169.254.169.254", "1.1.1.1"],
    "loop.example": ["127.0.0.1"],
    "ll.example": ["169.254.169.254"],
    "cgnat.example": ["100.64.0.1"],
    "self.example": ["9.9.9.9"],
  });
});
afterAll(() => dns?.[Symbol.asyncDispose]());

/** [name, allowPrivate, expected]; the node's own addresses here are 9.9.9.9 (a public one, to test that rule alone). */
const cases: [string, boolean, string | null][] = [
  ["public.example", false, "8.8.8.8"],
  ["mixed.example", false, "1.1.1.1"],
  ["loop.example", false, null],
  ["ll.example", false, null],
  ["cgnat.example", false, null],
  ["self.example", false, null],
  ["nobody.example", false, null],
  ["loop.example", true, "127.0.0.1"],
  ["self.example", true, "9.9.9.9"],
  ["nobody.example", true, null],
];

for (const [host, allowPrivate, want] of cases) {
  test(`resolveCalleeHost() ${host} ${allowPrivate ? "(private allowed)" : ""} -> ${want}`, async () => {
    const got = await resolveCalleeHost(host, {
      resolve: hostResolver(dns.server, 1000),
      allowPrivate,
      own: () => new Set(["9.9.9.9"]),
    });
    expect(got).toBe(want);
  });
}

test("resolveCalleeHost() treats a DNS server that never answers as unresolvable, within the timeout", async () => {
  const silent = Bun.udpSocket({ hostname: "127.0.0.1", port: 0 }); // receives, never answers
  try {
    const t0 = performance.now();
    const got = await resolveCalleeHost("public.example", {
      resolve: hostResolver(`127.0.0.1:${(await silent).port}`, 300),
      allowPrivate: false,
      own: () => new Set(),
    });
    expect(got).toBeNull();
    expect(performance.now() - t0).toBeLessThan(5000);
  } finally {
    (await silent).close();
  }
});

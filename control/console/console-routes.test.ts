import { describe, expect, test } from "bun:test";
import { type InMemoryNode, inMemoryNode, TEST_ADMIN_TOKEN } from "../../test/support/in-memory-node.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function login(n: InMemoryNode, base = "http://node.test"): Promise<string> {
  const res = await n.app.request(`${base}/console/login`, {
    method: "POST",
    headers: FORM,
    body: form({ token: TEST_ADMIN_TOKEN }),
  });
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

describe("console routes", () => {
  test("login sets an HttpOnly SameSite=Strict cookie that is not the admin token; Secure over https", async () => {
    using n = await inMemoryNode();
    for (const [base, secure] of [
      ["http://node.test", false],
      ["https://node.test", true],
    ] as const) {
      const res = await n.app.request(`${base}/console/login`, {
        method: "POST",
        headers: FORM,
        body: form({ token: TEST_ADMIN_TOKEN }),
      });
      const cookie = res.headers.get("set-cookie")!;
      expect(cookie).toMatch(/^pvrlink_console=cs_[A-Za-z0-9_-]{43}; /);
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Strict");
      expect(cookie).toContain("Path=/console");
      expect(cookie.includes("Secure")).toBe(secure);
      expect(cookie).not.toContain(TEST_ADMIN_TOKEN);
      expect(res.headers.get("location")).toBe("/console/devices");
    }
  });

  const refusals: Array<[string, () => RequestInit & { path: string }, number]> = [
    [
      "a wrong token",
      () => ({ path: "/console/login", method: "POST", headers: FORM, body: form({ token: "adm_wrong" }) }),
      401,
    ],
    ["an empty login form", () => ({ path: "/console/login", method: "POST", headers: FORM, body: "" }), 401],
    ["a page without a session", () => ({ path: "/console/devices" }), 303],
    [
      "a live refresh without a session",
      () => ({ path: "/console/sessions", headers: { "x-console-fragment": "1" } }),
      401,
    ],
    [
      "a forged session cookie",
      () => ({ path: "/console/spool", headers: { cookie: "pvrlink_console=cs_forged" } }),
      303,
    ],
    [
      "the admin token as the cookie",
      () => ({ path: "/console/spool", headers: { cookie: `pvrlink_console=${TEST_ADMIN_TOKEN}` } }),
      303,
    ],
  ];
  for (const [what, req, status] of refusals) {
    test(`refuses ${what} with ${status}`, async () => {
      using n = await inMemoryNode();
      const { path, ...init } = req();
      expect((await n.app.request(path, init)).status).toBe(status);
    });
  }

  test("a cross-site form post is refused even with the session cookie, and changes nothing", async () => {
    using n = await inMemoryNode();
    const dev = await n.ctx.devices.enroll("box-1");
    const cookie = await login(n);
    for (const headers of [
      { "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example" },
      { origin: "null" },
    ]) {
      const res = await n.app.request(`http://node.test/console/devices/${dev.id}/remove`, {
        method: "POST",
        headers: { ...FORM, cookie, host: "node.test", ...headers },
      });
      expect(res.status).toBe(403);
    }
    expect(await n.ctx.devices.byId(dev.id)).not.toBeNull();
    const ok = await n.app.request(`http://node.test/console/devices/${dev.id}/remove`, {
      method: "POST",
      headers: { ...FORM, cookie, host: "node.test", "sec-fetch-site": "same-origin" },
    });
    expect(ok.status).toBe(303);
    expect(await n.ctx.devices.byId(dev.id)).toBeNull();
  });

  test("login attempts are rate-limited", async () => {
    using n = await inMemoryNode();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await n.app.request("/console/login", {
        method: "POST",
        headers: FORM,
        body: form({ token: `adm_guess_${i}` }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
  });

  test("pages carry a self-only CSP and no-store; reflected input is escaped", async () => {
    using n = await inMemoryNode();
    const res = await n.app.request(`/console/devices?q=${encodeURIComponent("x<b>y")}`, {
      headers: { cookie: await login(n) },
    });
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain('<meta name="viewport"');
    expect(html).toContain("x&lt;b&gt;y");
    expect(html).not.toContain("x<b>y");
  });

  test("accounting CSV refuses a malformed time and exports a header otherwise", async () => {
    using n = await inMemoryNode();
    const cookie = await login(n);
    expect(
      (await n.app.request("/console/accounting.csv?from=yesterday", { headers: { cookie } })).status,
    ).toBe(400);
    const ok = await n.app.request("/console/accounting.csv?from=2026-01-01T00:00", { headers: { cookie } });
    expect(ok.headers.get("content-type")).toContain("text/csv");
    expect(await ok.text()).toStartWith("session,caller,callee,mode,");
  });

  test("the accounting page shows one row per session, both peers' figures, and marks when they differ", async () => {
    using n = await inMemoryNode();
    const a = (await n.ctx.devices.enroll("acct-caller")).id;
    const b = (await n.ctx.devices.enroll("acct-callee")).id;
    const agree = await n.ctx.sessions.issue(a, b, "live", 0);
    const differ = await n.ctx.sessions.issue(a, b, "live", 0);
    for (const [g, calleeBytes] of [
      [agree, 2048],
      [differ, 1024],
    ] as const) {
      await n.ctx.sessions.end(g.id, { reporter: a, reason: "done", bytesDirect: 2048 });
      await n.ctx.sessions.end(g.id, { reporter: b, reason: "peer ended", bytesDirect: calleeBytes });
    }
    const cookie = await login(n);
    const html = await (await n.app.request("/console/accounting", { headers: { cookie } })).text();
    expect(html.match(/<tr data-session="ses_/g)).toHaveLength(2);
    expect(html).toContain(`<tr data-session="${differ.id}" data-disagree="true">`);
    expect(html).toContain(`<tr data-session="${agree.id}">`);
    expect(html).toContain("direct 1.00 KiB");
    expect(html).toContain("direct 2.00 KiB");
    expect(html).toContain("both are kept as reported");
    const csv = await (await n.app.request("/console/accounting.csv", { headers: { cookie } })).text();
    expect(csv.split("\r\n").filter((l) => l.startsWith("ses_"))).toHaveLength(2);
  });

  test("fuzz: 400 random console form posts never make a 500", async () => {
    using n = await inMemoryNode();
    const dev = await n.ctx.devices.enroll("box-1");
    const cookie = await login(n);
    const rand = new SeededRandom(1818);
    const paths = [
      `/console/devices/${dev.id}/rename`,
      `/console/devices/${dev.id}/allow-list`,
      "/console/devices/dev_nothere/disable",
      "/console/sessions/ses_nothere/end",
      "/console/spool/tr_nothere/delete",
    ];
    for (let i = 0; i < 400; i++) {
      const junk = new TextDecoder().decode(rand.bytes(rand.below(120)));
      const body = rand.below(2) ? form({ name: junk, entries: junk }) : junk;
      const res = await n.app.request(paths[rand.below(paths.length)]!, {
        method: "POST",
        headers: { ...FORM, cookie },
        body,
      });
      expect(res.status).toBeLessThan(500);
    }
  });
});

/** @module Attack (issue 21 item 12), real node process: the operator's cookie used to carry the raw admin token; now /status redirects to the console, whose cookie is a session token. */
import { expect, test } from "bun:test";
import { startNode } from "../support/control-node.ts";

test("the console cookie holds a session token, never the admin token, and the admin token is no cookie", async () => {
  await using node = await startNode();
  const old = await node.fetch(`${node.baseUrl}/status?token=${encodeURIComponent(node.adminToken)}`, {
    redirect: "manual",
  });
  expect(old.status).toBe(301);
  expect(old.headers.get("set-cookie") ?? "").not.toContain(node.adminToken);

  const login = await node.fetch(`${node.baseUrl}/console/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ token: node.adminToken }),
  });
  expect(login.status).toBe(303);
  const setCookie = login.headers.get("set-cookie") ?? "";
  expect(setCookie).toContain("HttpOnly");
  expect(setCookie).toContain("Secure");
  expect(setCookie).toContain("SameSite=Strict");
  const cookie = setCookie.split(";")[0]!;
  const value = decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1));
  expect(value.length).toBeGreaterThanOrEqual(32);
  expect(value).not.toContain(node.adminToken);
  const page = (c: string) =>
    node.fetch(`${node.baseUrl}/console/devices`, { redirect: "manual", headers: { cookie: c } });
  expect((await page(cookie)).status).toBe(200);
  // A stolen-cookie shape with the admin token itself is refused, as is a made-up session.
  for (const forged of [
    `pvrlink_console=${encodeURIComponent(node.adminToken)}`,
    "pvrlink_console=made-up-session-token-0000000000",
  ]) {
    expect((await page(forged)).status).toBe(303);
  }
  // The session token opens the console only, not the admin API.
  const admin = await node.fetch(`${node.baseUrl}/admin/devices`, {
    headers: { authorization: `Bearer ${value}` },
  });
  expect(admin.status).toBe(401);
});

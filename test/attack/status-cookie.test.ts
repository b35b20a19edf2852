/** @module Attack (issue 21 item 12), real node process: the /status cookie used to carry the raw admin token. */
import { expect, test } from "bun:test";
import { startNode } from "../support/control-node.ts";

test("the /status cookie holds a session token, never the admin token, and the admin token is no cookie", async () => {
  await using node = await startNode();
  const page = await fetch(`${node.baseUrl}/status?token=${encodeURIComponent(node.adminToken)}`);
  expect(page.status).toBe(200);
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
  const value = decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1));
  expect(value.length).toBeGreaterThanOrEqual(32);
  expect(value).not.toContain(node.adminToken);
  expect((await fetch(`${node.baseUrl}/status`, { headers: { cookie } })).status).toBe(200);
  // A stolen-cookie shape with the admin token itself is refused, as is a made-up session.
  for (const forged of [
    `pvrlink_admin=${encodeURIComponent(node.adminToken)}`,
    "pvrlink_admin=made-up-session-token-0000000000",
  ]) {
    expect((await fetch(`${node.baseUrl}/status`, { headers: { cookie: forged } })).status).toBe(401);
  }
  // The session token opens /status only, not the admin API.
  const admin = await fetch(`${node.baseUrl}/admin/devices`, {
    headers: { authorization: `Bearer ${value}` },
  });
  expect(admin.status).toBe(401);
});

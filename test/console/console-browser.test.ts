/** @module The operator's console in a real browser (Debian's chromium, headless): log in, enroll, watch a live send, end a session, delete a spool item; each effect checked through the admin API. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { outcomeOf } from "../support/api-outcome.ts";
import { type NodeProcess, startNode } from "../support/control-node.ts";
import { DeviceAgent } from "../support/device-agent.ts";
import { type HeadlessBrowser, launchChromium } from "../support/headless-browser.ts";
import { storeItem } from "../support/stored-item.ts";

/** Screenshots go to PVRLINK_SCREENSHOTS (docs/images when refreshing the docs), else to a temporary directory. */
const shots = process.env.PVRLINK_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), "pvrlink-shots-"));
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 412, height: 915, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

let node: NodeProcess;
let chromium: HeadlessBrowser;
let page: Page;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  node = await startNode({ config: { triggerDeadlineMs: 600 } });
  chromium = await launchChromium({ trustPin: node.pin });
  page = await chromium.browser.newPage();
  await page.setViewport(DESKTOP);
  page.on("dialog", (d) => void d.accept());
});
afterAll(async () => {
  await chromium?.[Symbol.asyncDispose]();
  await node?.[Symbol.asyncDispose]();
  if (!process.env.PVRLINK_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
});

/** Both widths; at phone width nothing may scroll sideways (responsive tables). */
async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `console-${name}-desktop.png`), fullPage: true });
  await page.setViewport(PHONE);
  // Against the device width, not innerWidth: a mobile browser zooms out to fit an overflowing page, and then
  // innerWidth grows with the overflow. Waits for the reload that switching to a mobile viewport causes.
  await page.waitForFunction("document.readyState === 'complete'");
  const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
  expect(`${name}: ${width}`).toBe(`${name}: ${PHONE.width}`);
  await page.screenshot({ path: join(shots, `console-${name}-phone.png`), fullPage: true });
  await page.setViewport(DESKTOP);
}

const go = (path: string) => page.goto(`${node.baseUrl}${path}`, { waitUntil: "domcontentloaded" });

/** Clicks a submit button and waits for the POST-redirect-GET to land. */
async function submit(selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "domcontentloaded" }), page.click(selector)]);
}

describe("the console in chromium", () => {
  test("without a session every page sends the browser to the login form", async () => {
    for (const p of ["/", "/console/devices", "/console/spool"]) {
      await go(p);
      expect(new URL(page.url()).pathname).toBe("/console/login");
    }
    await page.type("#token", "adm_not-the-token-at-all");
    await submit("button[type=submit]");
    expect(await page.$eval(".error", (e) => e.textContent)).toContain("not this node's admin token");
    await screenshot("login");
  });

  test("logs in with the admin token: an HttpOnly SameSite=Strict cookie, no token in any URL", async () => {
    await go("/console/login");
    await page.type("#token", node.adminToken);
    await submit("button[type=submit]");
    expect(new URL(page.url()).pathname).toBe("/console/devices");
    expect(page.url()).not.toContain(node.adminToken);
    const [cookie] = await page.cookies();
    expect(cookie).toMatchObject({
      name: "pvrlink_console",
      httpOnly: true,
      sameSite: "Strict",
      path: "/console",
    });
    expect(cookie?.value).not.toContain(node.adminToken);
  });

  test("enrolls a device with a one-time token shown as text and QR code; the device redeems it once", async () => {
    await go("/console/devices");
    await submit("#enroll");
    const token = await page.$eval("#enrollment-token", (e) => e.textContent?.trim() ?? "");
    expect(token).toMatch(/^enr_/);
    expect(await page.$eval(".qr svg", (e) => e.getAttribute("viewBox"))).toMatch(/^0 0 \d+ \d+$/);
    await screenshot("enroll");
    const redeem = () =>
      node.fetch(`${node.baseUrl}/v1/enroll`, {
        method: "POST",
        body: JSON.stringify({ token, name: "console-tv" }),
      });
    expect((await redeem()).status).toBe(201);
    expect((await redeem()).status).toBe(401);
    expect((await node.admin.devices()).some((d) => d.name === "console-tv")).toBe(true);
    await go("/console/devices");
    expect(await page.$eval("#devices", (e) => e.textContent)).toContain("console-tv");
  });

  test("watches a live send's progress update without a reload, then ends the session", async () => {
    const caller = await node.enroll("live-caller");
    const callee = await node.enroll("live-callee");
    const a = node.client(caller);
    const b = node.client(callee);
    await b.updateAllowList({ create: [caller.name] });
    await b.register("127.0.0.1", 7100);
    await using agent = await DeviceAgent.start(callee, node.udp);
    await agent.keepalive();
    const q = await a.query(callee.name);
    if (q.status !== 200) throw new Error("expected a live session");
    const size = 300_000;
    const data = new Uint8Array(size).fill(7);
    const t = await a.createTransfer({ session: q.session.id, size, kind: "relay" });
    await a.uploadData(t.transfer.id, 0, data.subarray(0, 100_000));

    await go("/console/sessions");
    const row = `tr[data-session="${q.session.id}"]`;
    const percent = () => page.$eval(`${row} [data-transfer]`, (e) => e.getAttribute("data-percent"));
    expect(await percent()).toBe("33");
    await screenshot("sessions");
    const navigations: string[] = [];
    page.on("framenavigated", (f) => navigations.push(f.url()));
    await a.uploadData(t.transfer.id, 100_000, data.subarray(100_000));
    // The page polls and swaps <main>: the bar reaches 100% with no navigation.
    await page.waitForFunction(
      `document.querySelector(${JSON.stringify(`${row} [data-transfer]`)})?.getAttribute("data-percent") === "100"`,
      { timeout: 15_000 },
    );
    expect(navigations).toEqual([]);

    await submit(`${row} button.danger`);
    expect(await page.$eval(".notice", (e) => e.textContent)).toContain("Session ended");
    const s = (await node.admin.sessions()).find((x) => x.id === q.session.id);
    expect(s).toMatchObject({ state: "ended", reason: "ended from the console" });
    expect(agent.triggers.some((x) => x.kind === "end")).toBe(true);
  });

  test("deletes a spool item", async () => {
    const item = await storeItem(node, "console-sf");
    await go("/console/spool");
    const row = `tr[data-item="${item.transferId}"]`;
    expect(await page.$eval(row, (e) => e.textContent)).toContain("console-sf-caller");
    await screenshot("spool");
    await submit(`${row} button.danger`);
    expect(await page.$eval(".notice", (e) => e.textContent)).toContain("deleted");
    expect(await page.$(row)).toBeNull();
    expect(await outcomeOf(node.client(item.callee).transfer(item.transferId))).toBe(
      "404 transfer_not_found",
    );
  });

  test("renames and disables a device from its page; the API sees both", async () => {
    const cred = await node.enroll("console-old-name");
    await go(`/console/devices/${cred.id}`);
    await screenshot("device");
    await page.click("input[name=name]", { count: 3 });
    await page.type("input[name=name]", "console-new-name");
    await submit(`form[action$="/rename"] button`);
    await submit(`form[action$="/disable"] button`);
    const dev = (await node.admin.devices()).find((d) => d.id === cred.id);
    expect(dev).toMatchObject({ name: "console-new-name" });
    expect(dev?.disabledAt).toBeNumber();
    expect(await outcomeOf(node.client(cred).allowList())).toMatch(/^401 /);
  });

  test("the device list, lists and accounting pages render; accounting exports CSV", async () => {
    await go("/console/devices");
    await screenshot("devices");
    await go("/console/lists");
    expect(await page.$eval("#allow-lists", (e) => e.textContent)).toContain("live-caller");
    await screenshot("lists");
    await go("/console/accounting");
    expect(await page.$eval("#accounting", (e) => e.textContent)).toContain("ended from the console");
    await screenshot("accounting");
    const csv = String(await page.evaluate(`fetch("/console/accounting.csv").then((r) => r.text())`));
    expect(csv.split("\r\n")[0]).toStartWith("session,caller,callee,mode,");
    expect(csv).toContain("ended from the console");
  });
});

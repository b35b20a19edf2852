/** @module Debian's chromium driven headless by puppeteer-core: no browser download, a fresh profile per launch, disposed with `await using`. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Flags that keep the browser off the network but for the pages it is sent to, and quiet. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface HeadlessBrowser extends AsyncDisposable {
  readonly browser: Browser;
}

/**
 * puppeteer adds --headless itself (headless: true); the profile directory is new and removed on dispose.
 * `trustPin` (the node's `sha256/BASE64` pin) makes Chromium accept exactly that self-signed certificate, as a
 * recorder does: --ignore-certificate-errors-spki-list takes the same SPKI SHA-256, and no other certificate.
 */
export async function launchChromium(o: { trustPin?: string } = {}): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "pvrlink-chromium-"));
  const pin = o.trustPin?.replace(/^sha256\//, "");
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      ...(pin ? [`--ignore-certificate-errors-spki-list=${pin}`] : []),
    ],
  });
  return {
    browser,
    async [Symbol.asyncDispose]() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

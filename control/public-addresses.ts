/** @module What a serving node tells recorders: its public URL and UDP endpoint, from --public-url, the config or the bound address. */
import { networkInterfaces } from "node:os";
import { UsageError } from "../cli/command.ts";
import type { ControlConfig } from "./control-config.ts";
import { formatHostPort } from "./control-node.ts";

const WILDCARD = new Set(["0.0.0.0", "::", "[::]", ""]);

/** This machine's first non-loopback IPv4 address: what a wildcard listener is reached at, at best a guess. */
function firstLanAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return "127.0.0.1";
}

/** Checks an http(s) URL given as `what`; a UsageError otherwise. Returns it without a trailing slash. */
export function checkUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${what} '${url}' is not a URL (e.g. http://node.example.org:8650)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`${what} '${url}' is not an http(s) URL`);
  return u.href.replace(/\/$/, "");
}

/**
 * What recorders are told: --public-url, else the config's publicHttp, else the bound HTTP address with a
 * wildcard host replaced; the UDP endpoint is the config's publicUdp, else the URL's host with the UDP port.
 */
export function publicAddresses(
  bound: { http: { host: string; port: number }; udp: { host: string; port: number } },
  config: Pick<ControlConfig, "publicHttp" | "publicUdp">,
  o: { flag?: string | undefined; scheme?: "http" | "https" } = {},
): { url: string; publicUdp: string } {
  const { flag } = o;
  const scheme = o.scheme ?? "http";
  const fromConfig = config.publicHttp ?? undefined;
  const url =
    flag !== undefined
      ? checkUrl(flag, "--public-url")
      : fromConfig !== undefined
        ? checkUrl(fromConfig.includes("://") ? fromConfig : `${scheme}://${fromConfig}`, "publicHttp")
        : `${scheme}://${formatHostPort({ host: WILDCARD.has(bound.http.host) ? firstLanAddress() : bound.http.host, port: bound.http.port })}`;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  // A URL someone chose names the host recorders reach; a derived one follows what the UDP socket is bound to.
  const chosen = flag !== undefined || fromConfig !== undefined;
  const udpHost = chosen || WILDCARD.has(bound.udp.host) ? host : bound.udp.host;
  return { url, publicUdp: config.publicUdp ?? formatHostPort({ host: udpHost, port: bound.udp.port }) };
}

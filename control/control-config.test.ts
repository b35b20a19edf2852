/** @module Tests for the control node's config: defaults < file < overrides, rejected files and addresses, host:port parsing. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateAdminToken } from "./admin-token.ts";
import {
  type ControlConfig,
  checkConfig,
  DEFAULT_CONFIG,
  loadConfig,
  parseHostPort,
} from "./control-config.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("control config", () => {
  test("loadConfig() layers defaults < file < overrides", () => {
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ http: "0.0.0.0:9000", sessionDurationSec: 60, tcpProbe: true }));
    const c = loadConfig(file, { http: "127.0.0.1:0" });
    expect(c.http).toBe("127.0.0.1:0");
    expect(c.sessionDurationSec).toBe(60);
    expect(c.tcpProbe).toBe(true);
    expect(c.udp).toBe(DEFAULT_CONFIG.udp);
  });

  const bad: Array<[string, unknown]> = [
    ["an array", []],
    ["an unknown key", { htpp: "x" }],
    ["a string for a number", { sessionDurationSec: "60" }],
    ["a negative number", { maxExtensions: -1 }],
    ["a number for a boolean", { tcpProbe: 1 }],
    ["a short admin token", { adminToken: "short" }],
    ["a number for tlsCert", { tlsCert: 1 }],
    ["a string for insecureHttp", { insecureHttp: "yes" }],
    ["a negative refusal deadline", { refusalDeadlineMs: -1 }],
  ];
  for (const [what, raw] of bad) {
    test(`checkConfig() rejects ${what}`, () => {
      expect(() => checkConfig(raw, "test")).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }

  test("checkConfig() takes the TLS keys: paths or null, and a boolean for plain HTTP", () => {
    expect(checkConfig({ tlsCert: "/c.pem", tlsKey: "/k.pem", insecureHttp: false }, "t")).toEqual({
      tlsCert: "/c.pem",
      tlsKey: "/k.pem",
      insecureHttp: false,
    });
    expect(checkConfig({ tlsCert: null, tlsKey: null, refusalDeadlineMs: 0 }, "t")).toEqual({
      tlsCert: null,
      tlsKey: null,
      refusalDeadlineMs: 0,
    });
    expect([DEFAULT_CONFIG.insecureHttp, DEFAULT_CONFIG.tlsCert]).toEqual([false, null]);
  });

  test("loadConfig() rejects unreadable files, bad JSON and bad addresses", () => {
    expect(() => loadConfig(join(dir, "missing.json"), {})).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG" }),
    );
    const f = join(dir, "bad.json");
    writeFileSync(f, "{");
    expect(() => loadConfig(f, {})).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    expect(() => loadConfig(undefined, { http: "localhost" })).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG" }),
    );
    expect(() => loadConfig(undefined, { udp: "1.2.3.4:70000" })).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG" }),
    );
  });

  const PG = "postgres://u@127.0.0.1:5432/pvrlink";
  const roles: Array<[string, Partial<ControlConfig>, string | null]> = [
    ["no flags: the embedded node", {}, null],
    ["role http with a PostgreSQL store and NATS", { role: "http", store: PG, nats: "127.0.0.1:4222" }, null],
    ["role udp with a node id", { role: "udp", store: PG, nats: "n:4222", nodeId: "udp-a_1" }, null],
    ["an unknown role", { role: "relay" as ControlConfig["role"] }, "is not one of"],
    ["role udp without a store", { role: "udp", nats: "n:4222" }, "needs a shared --store"],
    [
      "role http over a sqlite file",
      { role: "http", store: "/tmp/x.db", nats: "n:4222" },
      "needs a shared --store",
    ],
    ["role http without NATS", { role: "http", store: PG }, "needs --nats"],
    ["a node id with a dot (a NATS subject separator)", { nodeId: "udp.1" }, "nodeId"],
    ["an S3 spool with a prefix", { spool: "s3://pvrlink-spool/eu/node" }, null],
    ["an S3 spool at the bucket's root", { spool: "s3://pvrlink-spool" }, null],
    ["a spool that is not an s3:// URL", { spool: "/var/spool/pvrlink" }, "is not s3://BUCKET/PREFIX"],
    ["an S3 bucket name in capitals", { spool: "s3://Spool/x" }, "is not s3://BUCKET/PREFIX"],
    ["S3 parts below 64 KiB", { spool: "s3://pvrlink-spool", spoolPartBytes: 1024 }, "spoolPartBytes"],
  ];
  for (const [what, over, error] of roles) {
    test(`loadConfig() ${error === null ? "accepts" : "rejects"} ${what}`, () => {
      if (error === null) expect(loadConfig(undefined, over).role).toBe(over.role ?? "all");
      else expect(() => loadConfig(undefined, over)).toThrow(error);
    });
  }

  test("parseHostPort() reads IPv4, names and bracketed IPv6", () => {
    expect(parseHostPort("127.0.0.1:0", "x")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseHostPort("[::1]:8650", "x")).toEqual({ host: "::1", port: 8650 });
    expect(parseHostPort("node.example:1", "x")).toEqual({ host: "node.example", port: 1 });
  });
});

describe("admin token", () => {
  test("loadOrCreateAdminToken() creates a 0600 file once and reuses it", () => {
    const d = mkdtempSync(join(dir, "data-"));
    const t = loadOrCreateAdminToken(d, null);
    expect(t).toMatch(/^adm_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(d, "admin-token")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateAdminToken(d, null)).toBe(t);
    expect(loadOrCreateAdminToken(d, "configured-token-123")).toBe("configured-token-123");
  });
});

/** @module Tests for resolveConfig(): defaults, the file (paths relative to it), flag overrides and rejected values. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PATTERN_VERSIONS_READ } from "../../codec/pattern/pattern-header.ts";
import type { ConfigFlagValues } from "./config-flags.ts";
import { resolveConfig } from "./recorder-config.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PVRLINK_DATA: join(dir, "default-data") };

function writeConfig(name: string, body: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof body === "string" ? body : JSON.stringify(body));
  return p;
}

describe("resolveConfig()", () => {
  test("fills every field with a default", async () => {
    const c = await resolveConfig({}, env);
    expect(c).toMatchObject({
      nodeUrl: "http://127.0.0.1:8650",
      nodeUdp: { host: "127.0.0.1", port: 3478 },
      dataDir: env.PVRLINK_DATA,
      libraryDir: join(env.PVRLINK_DATA, "library"),
      credentialPath: join(env.PVRLINK_DATA, "credential.json"),
      listen: { host: "0.0.0.0", port: 8471 },
      advertise: undefined,
      loadLimits: { cpu: 0.85, pressure: 40, transfers: 2 },
      keepaliveSeconds: 25,
      policy: "node",
      allow: [],
      nodeUdpFallbacks: [],
      nodeUrlFallbacks: [],
      sealedBelowBytes: undefined,
      patternVersions: PATTERN_VERSIONS_READ,
    });
    expect(c.name.length).toBeGreaterThan(0);
    expect(c.priority).toEqual({ nice: 19, io: "best-effort", ioLevel: 7 });
  });
  test("reads the file, resolving its relative paths against the file", async () => {
    const p = writeConfig("a.json", {
      name: "+81-90-1234-5678",
      nodeUrl: "https://node.example:9443/",
      dataDir: "rec-data",
      listen: "[::1]:9000",
      advertise: "203.0.113.7:18471",
      loadLimits: { cpu: 0.5 },
      keepaliveSeconds: 10,
      policy: "device",
      allow: ["grandma@example.org", "@family"],
      nodeUdpFallbacks: ["udp-b.node.example:3478", "[2001:db8::2]:3479"],
      nodeUrlFallbacks: ["https://http-b.node.example:9443/"],
      sealedBelowBytes: 1048576,
      patternVersions: [1, 2],
    });
    const c = await resolveConfig({ config: p }, env);
    expect(c).toMatchObject({
      name: "+81-90-1234-5678",
      nodeUrl: "https://node.example:9443",
      nodeUdp: { host: "node.example", port: 3478 },
      dataDir: join(dir, "rec-data"),
      listen: { host: "::1", port: 9000 },
      advertise: { host: "203.0.113.7", port: 18471 },
      loadLimits: { cpu: 0.5, pressure: 40, transfers: 2 },
      keepaliveSeconds: 10,
      policy: "device",
      allow: ["grandma@example.org", "@family"],
      nodeUdpFallbacks: [
        { host: "udp-b.node.example", port: 3478 },
        { host: "2001:db8::2", port: 3479 },
      ],
      nodeUrlFallbacks: ["https://http-b.node.example:9443"],
      sealedBelowBytes: 1048576,
      patternVersions: [1, 2],
    });
  });
  test("lets flags override the file", async () => {
    const p = writeConfig("b.json", { name: "file-name", keepaliveSeconds: 10 });
    const c = await resolveConfig(
      { config: p, name: "flag-name", keepalive: "30", "max-transfers": "4" },
      env,
    );
    expect([c.name, c.keepaliveSeconds, c.loadLimits.transfers]).toEqual(["flag-name", 30, 4]);
  });
  test("finds config.json in the data dir", async () => {
    const data = join(dir, "with-config");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "config.json"), JSON.stringify({ name: "from-data-dir" }));
    expect((await resolveConfig({ data }, env)).name).toBe("from-data-dir");
  });

  const badFlags: Array<[string, ConfigFlagValues, RegExp]> = [
    ["a listen without port", { listen: "0.0.0.0" }, /--listen: '0.0.0.0' is not host:port/],
    ["a port above 65535", { listen: "h:70000" }, /--listen/],
    ["an advertise without port", { advertise: "203.0.113.7" }, /--advertise/],
    ["a non-http node URL", { node: "ftp://x" }, /--node: 'ftp:\/\/x' is not an http\(s\) URL/],
    ["a cpu limit above 1", { "load-cpu": "1.5" }, /--load-cpu: "1.5" is not a number in \[0.01, 1\]/],
    ["fractional max transfers", { "max-transfers": "1.5" }, /--max-transfers/],
    ["a 1 s keepalive", { keepalive: "1" }, /--keepalive/],
    ["an unknown policy", { policy: "anyone" }, /--policy: "anyone" is not "node", "device" or "list"/],
    ["an empty name", { name: "" }, /--name/],
  ];
  for (const [what, flags, msg] of badFlags) {
    test(`rejects ${what} as a usage error`, async () => {
      await expect(resolveConfig(flags, env)).rejects.toThrow(expect.objectContaining({ code: "ERR_USAGE" }));
      await expect(resolveConfig(flags, env)).rejects.toThrow(msg);
    });
  }

  const badFiles: Array<[string, unknown, string, RegExp]> = [
    ["invalid JSON", "{name:", "ERR_CONFIG_FILE", /Cannot parse config/],
    ["a top-level array", [], "ERR_CONFIG_FILE", /not a JSON object/],
    ["an unknown key", { nmae: "x" }, "ERR_CONFIG_INVALID", /unknown key 'nmae'/],
    ["an unknown load limit", { loadLimits: { gpu: 1 } }, "ERR_CONFIG_INVALID", /unknown key 'gpu'/],
    ["a string keepalive", { keepaliveSeconds: "soon" }, "ERR_CONFIG_INVALID", /keepaliveSeconds/],
    ["an allow entry that is a number", { allow: [1] }, "ERR_CONFIG_INVALID", /allow\[0\]/],
    ["a name with a newline", { name: "a\nb" }, "ERR_CONFIG_INVALID", /name/],
    [
      "UDP fallbacks that are not a list",
      { nodeUdpFallbacks: "b:3478" },
      "ERR_CONFIG_INVALID",
      /nodeUdpFallbacks/,
    ],
    [
      "a UDP fallback without a port",
      { nodeUdpFallbacks: ["b"] },
      "ERR_CONFIG_INVALID",
      /nodeUdpFallbacks\[0\]/,
    ],
    [
      "HTTP fallbacks that are not a list",
      { nodeUrlFallbacks: "https://b" },
      "ERR_CONFIG_INVALID",
      /nodeUrlFallbacks/,
    ],
    [
      "an HTTP fallback that is not http(s)",
      { nodeUrlFallbacks: ["ftp://b"] },
      "ERR_CONFIG_INVALID",
      /nodeUrlFallbacks\[0\]/,
    ],
    ["a size rule of 0", { sealedBelowBytes: 0 }, "ERR_CONFIG_INVALID", /sealedBelowBytes/],
    ["a fractional size rule", { sealedBelowBytes: 1.5 }, "ERR_CONFIG_INVALID", /sealedBelowBytes/],
    ["pattern versions that are not a list", { patternVersions: 4 }, "ERR_CONFIG_INVALID", /patternVersions/],
    [
      "a pattern version it does not read",
      { patternVersions: [1, 9] },
      "ERR_CONFIG_INVALID",
      /patternVersions\[1\]: 9 is not a version/,
    ],
    [
      "a pattern version listed twice",
      { patternVersions: [2, 2] },
      "ERR_CONFIG_INVALID",
      /patternVersions\[1\]: 2 is listed twice/,
    ],
    ["a priority that would raise it", { priority: { nice: -5 } }, "ERR_CONFIG_INVALID", /priority\.nice/],
  ];
  for (const [what, body, code, msg] of badFiles) {
    test(`rejects a file with ${what} (${code})`, async () => {
      const p = writeConfig(`bad-${what.replace(/\W/g, "-")}.json`, body);
      await expect(resolveConfig({ config: p }, env)).rejects.toThrow(expect.objectContaining({ code }));
      await expect(resolveConfig({ config: p }, env)).rejects.toThrow(msg);
    });
  }
  test("rejects a named config file that does not exist", async () => {
    await expect(resolveConfig({ config: join(dir, "nope.json") }, env)).rejects.toThrow(
      expect.objectContaining({ code: "ERR_CONFIG_FILE" }),
    );
  });
});

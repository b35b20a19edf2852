/** @module The bed's life cycle (teardown, stale cleanup, loud failure without root) and its NAT variants. */

import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "../../demo/child-process.ts";
import { createNetBed, NetBed, NODE_ADDR } from "./net-bed.ts";
import { listNamespaces, NS_PREFIX } from "./ns-admin.ts";
import { parseEndpoint } from "./probe.ts";
import { exec } from "./run-in.ts";
import type { MappingBehaviour } from "./source-nat.ts";

const PROBE = join(import.meta.dir, "probe.ts");

/** A temporary directory any user can read and enter; removed on dispose. */
async function worldReadableDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = mkdtempSync(join(tmpdir(), "pvrlink-nobody-"));
  chmodSync(path, 0o755);
  return { path, [Symbol.asyncDispose]: async () => rmSync(path, { recursive: true, force: true }) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("net bed life cycle", () => {
  test("destroy() kills the bed's processes and strays started outside runIn, and removes every namespace", async () => {
    const bed = await createNetBed({ homes: 1 });
    const names = bed.namespaces;
    expect(names).toHaveLength(3);
    const tracked = bed.runIn(bed.home(1).ns, ["sleep", "300"]);
    // A process the bed does not know about, detached from this test: teardown must still find it.
    const stray = Bun.spawn(["ip", "netns", "exec", bed.home(1).routerNs, "sleep", "300"]);
    expect((await listNamespaces()).filter((n) => names.includes(n)).sort()).toEqual([...names].sort());
    await bed.destroy();
    expect(await tracked.exited).not.toBe(0);
    expect(await stray.exited).not.toBe(0);
    expect(pidAlive(tracked.pid)).toBe(false);
    expect((await listNamespaces()).filter((n) => names.includes(n))).toEqual([]);
    await bed.destroy(); // a second call (afterAll after `await using`) is harmless
  });

  test("`await using` tears the bed down when the block throws", async () => {
    let names: string[] = [];
    const failing = async () => {
      await using bed = await createNetBed({ homes: 1 });
      names = bed.namespaces;
      throw new Error("scenario failed");
    };
    await expect(failing()).rejects.toThrow("scenario failed");
    expect(names).toHaveLength(3);
    expect((await listNamespaces()).filter((n) => names.includes(n))).toEqual([]);
  });

  test("a new bed removes namespaces left by a run whose process is gone, and keeps live ones", async () => {
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const stale = `${NS_PREFIX}${dead.pid}-dead0001-wan`;
    await exec(["ip", "netns", "add", stale]);
    const mineStillLive = `${NS_PREFIX}${process.pid}-live0001-wan`;
    await exec(["ip", "netns", "add", mineStillLive]);
    try {
      await using _bed = await createNetBed({ homes: 1 });
      const now = await listNamespaces();
      expect(now).not.toContain(stale);
      expect(now).toContain(mineStillLive);
    } finally {
      await exec(["ip", "netns", "del", mineStillLive]);
      await exec(["ip", "netns", "del", stale]).catch(() => {});
    }
  });

  test("without root the bed fails with one loud line instead of skipping", async () => {
    // nobody may not reach this checkout (a clone in a 0700 directory), so the script is bundled, and Bun copied,
    // into a directory of its own that nobody can read.
    await using dir = await worldReadableDir();
    const entry = join(dir.path, "entry.ts");
    await Bun.write(
      entry,
      `import { createNetBed } from ${JSON.stringify(join(import.meta.dir, "net-bed.ts"))};
try { await createNetBed(); } catch (e) { console.log(e.code + " " + e.message); process.exit(3); }`,
    );
    const built = await Bun.build({ entrypoints: [entry], outdir: dir.path, target: "bun" });
    expect(built.success).toBe(true);
    const bun = join(dir.path, "bun");
    copyFileSync(process.execPath, bun);
    chmodSync(bun, 0o755);
    // setpriv (util-linux) drops to nobody; HOME points somewhere writable for Bun's cache.
    const p = Bun.spawn(
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bun, join(dir.path, "entry.js")],
      {
        cwd: dir.path,
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, HOME: "/tmp", BUN_INSTALL_CACHE_DIR: "/tmp/.bun-nobody-cache" },
      },
    );
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(3);
    expect(out.trim().split("\n")).toEqual([
      "ERR_NETBED_UNAVAILABLE NET BED UNAVAILABLE: running as uid 65534, not root; test/net needs root with iproute2 and nftables",
    ]);
  });

  test("new NetBed() rejects a home count outside 1..9", () => {
    expect(() => new NetBed({ homes: 0 })).toThrow(RangeError);
    expect(() => new NetBed({ homes: 10 })).toThrow(RangeError);
  });

  test("home() rejects an index the bed does not have, runIn() a foreign namespace", async () => {
    await using bed = await createNetBed({ homes: 1 });
    expect(() => bed.home(2)).toThrow(/homes 1\.\.1/);
    expect(() => bed.runIn("some-other-ns", ["true"])).toThrow(RangeError);
  });
});

describe("net bed NAT variants", () => {
  async function echoAndClients(
    bed: NetBed,
  ): Promise<{ echo: ChildProcess; port: string; clients: ChildProcess[] }> {
    const echo = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
    const port = (await echo.waitForLine(/^listening (\d+)$/))[1]!;
    const clients = bed.homes.map((h) =>
      bed.runIn(h.ns, [process.execPath, PROBE, "udp-client", NODE_ADDR, port]),
    );
    for (const c of clients) await c.waitForLine(/^bound \d+$/);
    return { echo, port, clients };
  }

  test("identical LAN subnets: two homes at 192.168.1.2 are told apart by their routers' addresses", async () => {
    await using bed = await createNetBed({ lanSubnets: "identical" });
    expect(bed.home(1).lanAddr).toBe(bed.home(2).lanAddr);
    const { echo, clients } = await echoAndClients(bed);
    clients[0]!.send("send from-home-1");
    clients[1]!.send("send from-home-2");
    const a = parseEndpoint((await echo.waitForLine(/^from (\S+) from-home-1$/))[1]!);
    const b = parseEndpoint((await echo.waitForLine(/^from (\S+) from-home-2$/))[1]!);
    expect([a.address, b.address]).toEqual([bed.home(1).wanAddr, bed.home(2).wanAddr]);
    // Each reply reaches the home that asked, not the other one with the same LAN address.
    expect((await clients[0]!.waitForLine(/ seen (\S+) from-home-\d$/))[0]).toEndWith("from-home-1");
    expect((await clients[1]!.waitForLine(/ seen (\S+) from-home-\d$/))[0]).toEndWith("from-home-2");
  });

  test("setUdpTimeout() sets the lifetime new mappings start with", async () => {
    await using bed = await createNetBed({ homes: 1, udpTimeoutSec: 3 });
    await bed.setUdpTimeout(1, 40);
    const { echo, clients } = await echoAndClients(bed);
    clients[0]!.send("send timed");
    await echo.waitForLine(/^from \S+ timed$/);
    const udp = (await bed.mappings(1)).filter((m) => m.proto === "udp");
    expect(udp).toHaveLength(1);
    expect(udp[0]!.timeoutSec).toBeGreaterThan(30);
    expect(udp[0]!.timeoutSec).toBeLessThanOrEqual(40);
  });

  /**
   * The public ports one socket in home 1 gets toward the node's echo, toward a second echo on another port of
   * the node's address, and toward the first echo's port on another address of the wan namespace (the wan side
   * of router 1's link): the three cases RFC 4787 section 4.1 tells mapping behaviours apart by.
   */
  async function publicPorts(
    bed: NetBed,
  ): Promise<{ first: number; otherPort: number; otherAddress: number }> {
    const { echo, port, clients } = await echoAndClients(bed);
    const second = bed.runIn(bed.wan.ns, [process.execPath, PROBE, "udp-echo"]);
    const secondPort = (await second.waitForLine(/^listening (\d+)$/))[1]!;
    const linkAddress = bed.home(1).wanNet.replace(/\.0\/24$/, ".1");
    const seen = async (to: string, at: ChildProcess, text: string) => {
      clients[0]!.send(`sendto ${to} ${text}`);
      const from = parseEndpoint((await at.waitForLine(new RegExp(`^from (\\S+) ${text}$`)))[1]!);
      expect(from.address).toBe(bed.home(1).wanAddr);
      return from.port;
    };
    return {
      first: await seen(`${NODE_ADDR} ${port}`, echo, "first"),
      otherPort: await seen(`${NODE_ADDR} ${secondPort}`, second, "other-port"),
      otherAddress: await seen(`${linkAddress} ${port}`, echo, "other-address"),
    };
  }

  const mappings: Array<[MappingBehaviour, boolean, boolean]> = [
    // [mapping, same public port toward another port of one address, same toward another address]
    ["port-preserving", true, true], // endpoint-independent
    ["address-dependent", true, false],
    ["random", false, false], // address-and-port-dependent (symmetric): ~64k ports, a repeat is a 1-in-64k chance
  ];
  for (const [mapping, samePort, sameAddress] of mappings) {
    test(`mapping "${mapping}": another port of one address gets ${samePort ? "the same" : "a new"} public port, another address ${sameAddress ? "the same" : "a new"} one`, async () => {
      await using bed = await createNetBed({ homes: 1, mapping });
      const p = await publicPorts(bed);
      expect(p.otherPort === p.first).toBe(samePort);
      expect(p.otherAddress === p.first).toBe(sameAddress);
    });
  }
});

/** @module The amd64 Debian package: built with dpkg-deb, unpacked into a clean root, and the node started from its unit's ExecStart line in a fresh mount namespace, as an unprivileged user, then a device enrolls. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildProcess, firstJson, runToEnd } from "../../demo/child-process.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { nodeFetch } from "../../protocol/node-fetch.ts";
import { buildDeb, exampleNodeConfig } from "../../scripts/package-deb.ts";
import { compiledBinary } from "../support/compiled-binary.ts";

/** The uid/gid the service runs as here, standing in for systemd's DynamicUser (an unprivileged, unnamed id). */
const SERVICE_ID = 61_873;

const work = mkdtempSync(join(tmpdir(), "pvrlink-deb-test-"));
let deb: string;

beforeAll(async () => {
  compiledBinary("The package test");
  deb = await buildDeb("amd64", join(work, "out"));
}, 120_000); // gzip of a ~110 MB binary on a shared core
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Directives of one [Service] section, in order (repeated keys kept). */
function unitDirectives(text: string): Array<[string, string]> {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("[") && l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]);
}

describe("the Debian package", () => {
  test("has the control fields, the conffile, and the files with their modes", async () => {
    const info = await runToEnd(["dpkg-deb", "--info", deb]);
    expect(info.stdout).toMatch(/Package: pvrlink\n/);
    expect(info.stdout).toMatch(/Architecture: amd64\n/);
    const contents = await runToEnd(["dpkg-deb", "--contents", deb]);
    for (const [mode, path] of [
      ["-rwxr-xr-x root/root", "./usr/bin/pvrlink"],
      ["-rw-r--r-- root/root", "./lib/systemd/system/pvrlink-node.service"],
      ["-rw-r--r-- root/root", "./lib/systemd/system/pvrlink-recorder.service"],
      ["-rw-r--r-- root/root", "./etc/pvrlink/node.json"],
      ["-rw-r--r-- root/root", "./usr/share/doc/pvrlink/examples/node.example.json"],
      ["-rw-r--r-- root/root", "./usr/share/doc/pvrlink/operations.md"],
    ] as const) {
      expect(contents.stdout.split("\n").some((l) => l.startsWith(mode) && l.endsWith(path))).toBe(true);
    }
  });

  test("both units are hardened: dynamic user, strict filesystem, no new privileges, no capabilities", () => {
    const root = join(work, "root-units");
    mkdirSync(root);
    Bun.spawnSync(["dpkg", "-x", deb, root]);
    for (const unit of ["pvrlink-node.service", "pvrlink-recorder.service"]) {
      const d = new Map(unitDirectives(readFileSync(join(root, "lib/systemd/system", unit), "utf8")));
      expect(d.get("DynamicUser")).toBe("yes");
      expect(d.get("ProtectSystem")).toBe("strict");
      expect(d.get("NoNewPrivileges")).toBe("yes");
      expect(d.get("CapabilityBoundingSet")).toBe("");
      expect(d.get("StateDirectory")).toMatch(/^pvrlink-(node|recorder)$/);
      expect(d.get("ExecStart")).toStartWith("/usr/bin/pvrlink ");
    }
    // The shipped example is every key with its default, and the node accepts it.
    const example = JSON.parse(
      readFileSync(join(root, "usr/share/doc/pvrlink/examples/node.example.json"), "utf8"),
    );
    expect(example).toEqual(exampleNodeConfig());
  });

  test("installed into a clean root, both units start from their ExecStart lines; a device enrolls and runs", async () => {
    const root = join(work, "root");
    mkdirSync(root);
    const x = await runToEnd(["dpkg", "-x", deb, root]);
    expect(x.code).toBe(0);
    // The operator's edit of the conffile: loopback and free ports, so the test can run beside others, and
    // private addresses allowed, since the recorder registers 127.0.0.1.
    const conf = join(work, "node.json");
    writeFileSync(
      conf,
      JSON.stringify({ http: "127.0.0.1:0", udp: "127.0.0.1:0", allowPrivateAddresses: true }),
    );
    chmodSync(conf, 0o644);
    chmodSync(work, 0o755);
    const nodeState = stateDirectory("node-state");
    await using node = startUnit(root, "pvrlink-node.service", {
      "/var/lib/pvrlink-node": nodeState,
      "/etc/pvrlink/node.json": conf,
    });
    const addr = await firstJson<{ http: string; udp: string; pin: string }>(node, "http");
    const base = `https://${addr.http}`;
    // The node made its self-signed certificate at first start; this test trusts it by its pin, as recorders do.
    const trust = { kind: "pin", pin: addr.pin } as const;
    const fetch = nodeFetch(trust);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // Everything the node wrote belongs to the service's user, and the secrets are 0600.
    for (const f of ["admin-token", "control.db"]) {
      const st = statSync(join(nodeState, f));
      expect(st.uid).toBe(SERVICE_ID);
      expect(st.mode & 0o777).toBe(0o600);
    }
    const adminToken = readFileSync(join(nodeState, "admin-token"), "utf8").trim();
    const admin = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const { token } = (await (await admin("/admin/enrollment-tokens", {})).json()) as { token: string };
    const enrolled = await fetch(`${base}/v1/enroll`, {
      method: "POST",
      body: JSON.stringify({ token, name: "deb-box" }),
    });
    expect(enrolled.status).toBe(201);
    const cred = (await enrolled.json()) as { id: string; secret: string };
    const client = new ControlClient({ baseUrl: base, deviceId: cred.id, secret: cred.secret, trust });
    expect((await client.allowList()).policy).toBe("node");
    // The log is JSON lines on stderr, as the journal would receive them.
    await node.waitForLine((l) => l.includes('"enroll: ') && l.includes('"level":"info"'));

    // The console from the packaged binary: login, then an enrollment page with its QR code.
    const login = await fetch(`${base}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: adminToken }),
      redirect: "manual",
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await fetch(`${base}/console/devices/enroll`, {
      method: "POST",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(await page.text()).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);

    // The recorder unit: enrolled with the unit's user and state directory (as docs/operations.md says),
    // then started from its ExecStart line; it keeps its listener on loopback through DATA/config.json.
    const recState = stateDirectory("recorder-state");
    const { token: recToken } = (await (await admin("/admin/enrollment-tokens", {})).json()) as {
      token: string;
    };
    await using enroll = startInNamespace(
      root,
      { "/var/lib/pvrlink-recorder": recState },
      ["/usr/bin/pvrlink", "recorder", "enroll", "--node", base, "--udp", addr.udp, "--pin", addr.pin],
      ["--token", recToken, "--name", "deb-recorder", "--data", "/var/lib/pvrlink-recorder"],
    );
    if ((await enroll.exited) !== 0) throw new Error(`recorder enroll failed: ${enroll.lines.join("\n")}`);
    writeFileSync(join(recState, "config.json"), JSON.stringify({ listen: "127.0.0.1:0" }));
    await using recorder = startUnit(root, "pvrlink-recorder.service", {
      "/var/lib/pvrlink-recorder": recState,
    });
    const first = await firstJson<{ direct: string; device: string }>(recorder, "direct");
    const devices = (await (
      await fetch(`${base}/admin/devices`, { headers: { authorization: `Bearer ${adminToken}` } })
    ).json()) as Array<{ id: string; name: string }>;
    expect(devices.find((d) => d.id === first.device)?.name).toBe("deb-recorder");
    expect(statSync(join(recState, "credential.json")).mode & 0o777).toBe(0o600);
  });
});

/** A StateDirectory as systemd makes it: 0700, owned by the service's user. */
function stateDirectory(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, SERVICE_ID, SERVICE_ID);
  return dir;
}

/** Runs a unit's ExecStart line verbatim, with its Environment= lines, in the package's namespace. */
function startUnit(root: string, unit: string, binds: Record<string, string>): ChildProcess {
  const d = unitDirectives(readFileSync(join(root, "lib/systemd/system", unit), "utf8"));
  const env = Object.fromEntries(
    d
      .filter(([k]) => k === "Environment")
      .map(([, v]) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]),
  );
  const execStart = d.find(([k]) => k === "ExecStart")![1].split(/\s+/);
  return startInNamespace(root, binds, execStart, [], env);
}

/**
 * A fresh mount namespace in which the package sits at its real paths over the host's: /usr and /etc are
 * read-only overlays with the package on top, /var/lib a fresh tmpfs holding only the bound state directories;
 * the command runs as SERVICE_ID with no capabilities, as under DynamicUser=yes and CapabilityBoundingSet=.
 */
function startInNamespace(
  root: string,
  binds: Record<string, string>,
  argv: string[],
  more: string[] = [],
  env: Record<string, string> = {},
): ChildProcess {
  const script = [
    "set -e",
    `mount -t overlay overlay -o lowerdir=${root}/usr:/usr /usr`,
    `mount -t overlay overlay -o lowerdir=${root}/etc:/etc /etc`,
    "mount -t tmpfs -o mode=0755 tmpfs /var/lib",
    ...Object.entries(binds).flatMap(([at, from]) => [
      at.startsWith("/var/lib/") ? `mkdir -p ${at}` : ":",
      `mount --bind ${from} ${at}`,
    ]),
    `exec setpriv --reuid ${SERVICE_ID} --regid ${SERVICE_ID} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"`,
  ].join("\n");
  return new ChildProcess(
    "packaged pvrlink",
    ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", ...argv, ...more],
    { env },
  );
}

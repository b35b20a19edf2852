/** @module Integration: `pvrlink control devices|sessions|spool|token create|backup|restore` against the real node process. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outcomeOf } from "../support/api-outcome.ts";
import { makeDataDir, type NodeProcess, startNode } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";
import { storeItem } from "../support/stored-item.ts";

let node: NodeProcess;
const tmp = mkdtempSync(join(tmpdir(), "pvrlink-opcli-"));

beforeAll(async () => {
  node = await startNode({ config: { triggerDeadlineMs: 600 } });
});
afterAll(async () => {
  await node?.[Symbol.asyncDispose]();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `pvrlink control ARGS` against the node (the token read from its data directory, as on the host). */
async function ctl(...args: string[]) {
  return pvrlink(["control", ...args, "--node", node.baseUrl, "--data", node.dataDir]);
}

describe("operator CLI over the admin API", () => {
  test("devices list, show, disable (auth refused), enable, remove", async () => {
    const cred = await node.enroll("cli-dev");
    const list = await ctl("devices", "list");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+ID\s+STATE\s+LAST SEEN/);
    expect(list.stdout).toContain("cli-dev");
    const show = await ctl("devices", "show", "cli-dev");
    expect(JSON.parse(show.stdout)).toMatchObject({ id: cred.id, name: "cli-dev", disabledAt: null });

    const dis = await ctl("devices", "disable", cred.id);
    expect(dis.code).toBe(0);
    expect(JSON.parse(dis.stdout).disabledAt).toBeNumber();
    expect(await outcomeOf(node.client(cred).allowList())).toMatch(/^401 /);
    expect((await ctl("devices", "list")).stdout).toMatch(/cli-dev\s+\S+\s+disabled/);
    await ctl("devices", "enable", "cli-dev");
    expect((await node.client(cred).allowList()).policy).toBe("node");

    expect((await ctl("devices", "remove", "cli-dev")).code).toBe(0);
    expect((await node.admin.devices()).some((d) => d.id === cred.id)).toBe(false);
  });

  test("refusals carry the node's code and exit 1; bad usage exits 2", async () => {
    const missing = await ctl("devices", "show", "dev_nonexistent0000");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("device_not_found");
    expect((await ctl("devices", "frobnicate")).code).toBe(2);
    const wrong = await pvrlink(["control", "devices", "list", "--node", node.baseUrl, "--data", tmp]);
    expect(wrong.code).toBe(1);
    const unreachable = await pvrlink([
      "control",
      "spool",
      "list",
      "--node",
      "http://127.0.0.1:9",
      "--data",
      node.dataDir,
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("Cannot reach the node");
  });

  test("token create mints a token a device redeems once", async () => {
    const r = await ctl("token", "create", "--ttl", "60");
    expect(r.code).toBe(0);
    const { token } = JSON.parse(r.stdout) as { token: string };
    const res = await node.fetch(`${node.baseUrl}/v1/enroll`, {
      method: "POST",
      body: JSON.stringify({ token, name: "cli-token-dev" }),
    });
    expect(res.status).toBe(201);
  });

  test("sessions list and end; spool list and remove", async () => {
    const item = await storeItem(node, "cli-sf");
    const sessions = await ctl("sessions", "list", "--active");
    expect(sessions.stdout).toContain(item.sessionId);
    const spool = await ctl("spool", "list");
    expect(spool.stdout).toMatch(
      new RegExp(`${item.transferId}\\s+cli-sf-caller\\s+cli-sf-callee\\s+48.8 KiB\\s+complete`),
    );
    expect((await ctl("spool", "remove", item.transferId)).code).toBe(0);
    expect(await outcomeOf(node.client(item.callee).transfer(item.transferId))).toBe(
      "404 transfer_not_found",
    );
    const end = await ctl("sessions", "end", item.sessionId, "--reason", "cli test");
    expect(JSON.parse(end.stdout)).toMatchObject({ id: item.sessionId, state: "ended" });
    expect((await node.admin.sessions("active")).some((s) => s.id === item.sessionId)).toBe(false);
  });
});

describe("backup and restore", () => {
  test("a backup taken while the node runs restores onto a fresh data directory: devices authenticate, spool delivers", async () => {
    const item = await storeItem(node, "bk");
    const out = join(tmp, "backup");
    const r = await pvrlink(["control", "backup", out, "--data", node.dataDir]);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(statSync(join(out, "admin-token")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(out, "spool", `${item.transferId}.part`))).toBe(true);

    const fresh = makeDataDir("pvrlink-restored-");
    try {
      const rr = await pvrlink(["control", "restore", out, "--data", fresh]);
      expect(rr.code).toBe(0);
      expect((await pvrlink(["control", "restore", out, "--data", fresh])).code).toBe(1);
      await using restored = await startNode({ dataDir: fresh, keepData: true });
      expect(restored.adminToken).toBe(node.adminToken);
      const b = restored.client(item.callee);
      expect(JSON.stringify(await b.inbox())).toContain(item.transferId);
      const got = new Uint8Array(await (await b.downloadData(item.transferId, 0)).arrayBuffer());
      expect(Buffer.from(got).equals(Buffer.from(item.data))).toBe(true);
      expect((await restored.client(item.caller).allowList()).policy).toBe("node");
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test("restore refuses a tampered backup and writes nothing", async () => {
    const out = join(tmp, "tampered");
    expect((await pvrlink(["control", "backup", out, "--data", node.dataDir])).code).toBe(0);
    writeFileSync(join(out, "admin-token"), "adm_replaced_by_someone_else\n");
    const fresh = makeDataDir("pvrlink-tampered-");
    try {
      const rr = await pvrlink(["control", "restore", out, "--data", fresh]);
      expect(rr.code).toBe(1);
      expect(rr.stderr).toContain("ERR_BACKUP_CORRUPT");
      expect(existsSync(join(fresh, "control.db"))).toBe(false);
      const manifest = JSON.parse(readFileSync(join(out, "pvrlink-backup.json"), "utf8"));
      manifest.files[0].path = "../escape";
      writeFileSync(join(out, "pvrlink-backup.json"), JSON.stringify(manifest));
      expect((await pvrlink(["control", "restore", out, "--data", fresh])).stderr).toContain("not allowed");
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

/** @module Integration: the node speaks HTTPS with a self-signed certificate, recorders pin its SPKI and refuse any other node, and plain HTTP is an explicit operator choice. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { TLS_CERT_FILE, TLS_KEY_FILE } from "../../control/tls/node-certificate.ts";
import { certificatePinOfPem } from "../../crypto/certificate-pin.ts";
import { AdminClient } from "../../protocol/admin-client.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { NodeTrustError, nodeFetch } from "../../protocol/node-fetch.ts";
import { makeDataDir, type NodeProcess, startNode } from "../support/control-node.ts";
import { pvrlink } from "../support/pvrlink-source.ts";

let node: NodeProcess;
let other: NodeProcess;

beforeAll(async () => {
  [node, other] = await Promise.all([startNode(), startNode()]);
});
afterAll(async () => {
  await node?.[Symbol.asyncDispose]();
  await other?.[Symbol.asyncDispose]();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

describe("node TLS", () => {
  test("serve makes a self-signed certificate at first start; the printed pin is its SPKI's, the key is 0600", () => {
    const cert = readFileSync(join(node.dataDir, TLS_CERT_FILE), "utf8");
    expect(certificatePinOfPem(cert)).toBe(node.pin);
    expect(node.pin).toMatch(/^sha256\/[A-Za-z0-9+/]{43}=$/);
    expect(statSync(join(node.dataDir, TLS_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(node.pin).not.toBe(other.pin);
  });

  test("the node does not answer plain HTTP", async () => {
    const plain = node.baseUrl.replace("https://", "http://");
    expect(await codeOf(fetch(`${plain}/v1/registration`))).not.toBe("ok");
  });

  test("a pinned recorder reaches its node, and refuses a node with another certificate: node_pin_mismatch", async () => {
    const { token } = await node.admin.enrollmentToken(60);
    // The same token presented to another node (a man in the middle) under this node's pin: refused before any request.
    const wrong = ControlClient.enroll(
      other.baseUrl,
      token,
      "mallory-target",
      nodeFetch({ kind: "pin", pin: node.pin }),
    );
    expect(await codeOf(wrong)).toBe("node_pin_mismatch");
    // So the token is still unused at the real node.
    const cred = await ControlClient.enroll(node.baseUrl, token, "pinned-recorder", node.fetch);
    expect(cred.id).toMatch(/^dev_/);
    const good = new ControlClient({
      baseUrl: node.baseUrl,
      deviceId: cred.id,
      secret: cred.secret,
      trust: { kind: "pin", pin: node.pin },
    });
    expect((await good.register("203.0.113.9", 9000)).address).toBe("203.0.113.9");
    const pinnedElsewhere = new ControlClient({
      baseUrl: other.baseUrl,
      deviceId: cred.id,
      secret: cred.secret,
      trust: { kind: "pin", pin: node.pin },
    });
    expect(await codeOf(pinnedElsewhere.registration())).toBe("node_pin_mismatch");
  });

  test("a node that swaps its certificate after the first contact is refused: node_pin_mismatch", async () => {
    // A TCP relay in front of the node, switched to the other node mid-life: what an attacker on the path does.
    let target = node.http;
    const open = new Set<Socket>();
    const relay = createServer((client) => {
      const upstream = connect(target.port, target.host);
      open.add(client);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    try {
      const { port } = relay.address() as AddressInfo;
      const cred = await node.enroll("swap-target");
      const client = new ControlClient({
        baseUrl: `https://127.0.0.1:${port}`,
        deviceId: cred.id,
        secret: cred.secret,
        trust: { kind: "pin", pin: node.pin },
        fetch: nodeFetch({ kind: "pin", pin: node.pin }),
      });
      expect((await client.register("203.0.113.7", 9000)).address).toBe("203.0.113.7");
      // The attacker switches and drops the kept-alive connection, so the recorder's next request meets the other node.
      target = other.http;
      for (const s of open) s.destroy();
      expect(await codeOf(client.registration())).toBe("node_pin_mismatch");
    } finally {
      relay.close();
    }
  });

  test("a pinned or CA-trusting client never falls back to plain http: node_tls_required", async () => {
    const plain = node.baseUrl.replace("https://", "http://");
    for (const trust of [{ kind: "pin", pin: node.pin }, { kind: "ca" }] as const) {
      const err = await nodeFetch(trust)(`${plain}/v1/registration`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeTrustError);
      expect((err as NodeTrustError).code).toBe("node_tls_required");
    }
  });

  test("a CA-trusting client refuses the self-signed node (no pin, no system CA)", async () => {
    expect(await codeOf(nodeFetch({ kind: "ca" })(`${node.baseUrl}/v1/registration`))).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/,
    );
  });

  test("recorder enroll --pin: a wrong pin fails node_pin_mismatch and stores nothing; the right one enrolls", async () => {
    const { token, node: addr } = await node.admin.enrollmentToken(60);
    expect(addr).toMatchObject({ http: node.baseUrl, pin: node.pin });
    const dataDir = makeDataDir("pvrlink-tls-rec-");
    const args = [
      "recorder",
      "enroll",
      "--node",
      node.baseUrl,
      "--udp",
      node.udpAddr,
      "--token",
      token,
      "--name",
      "tls-cli",
      "--data",
      dataDir,
    ];
    const refused = await pvrlink([...args, "--pin", other.pin]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("node_pin_mismatch");
    expect(existsSync(join(dataDir, "credential.json"))).toBe(false);
    const ok = await pvrlink([...args, "--pin", node.pin]);
    expect(ok.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(dataDir, "credential.json"), "utf8")) as {
      node: { pin: string; http: string };
    };
    expect(saved.node).toMatchObject({ http: node.baseUrl, pin: node.pin });
  });

  test("control enroll prints an https URL and the pin; the certificate survives a restart", async () => {
    const cred = await node.enroll("printed-pin");
    expect((cred as unknown as { node: unknown }).node).toMatchObject({
      http: expect.stringMatching(/^https:\/\//),
      pin: node.pin,
    });
    const dataDir = makeDataDir("pvrlink-tls-restart-");
    const first = await startNode({ dataDir, keepData: true });
    await first.stop();
    await using second = await startNode({ dataDir });
    expect(second.pin).toBe(first.pin);
  });
});

describe("--insecure-http (behind a TLS-terminating proxy)", () => {
  test("serves plain HTTP, prints no pin, and enrolls only when the proxy says the client spoke TLS", async () => {
    await using plain = await startNode({ extraArgs: ["--insecure-http"] });
    expect(plain.baseUrl.startsWith("https://")).toBe(true); // what the harness assumes; this node ignores it
    const url = plain.baseUrl.replace("https://", "http://");
    const admin = new AdminClient(url, plain.adminToken);
    const { token, node: addr } = await admin.enrollmentToken(60);
    expect(addr?.pin).toBeUndefined();
    const direct = await fetch(`${url}/v1/enroll`, {
      method: "POST",
      body: JSON.stringify({ token, name: "via-plain" }),
    });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: { code: string } }).error.code).toBe("tls_required");
    const proxied = await fetch(`${url}/v1/enroll`, {
      method: "POST",
      headers: { "x-forwarded-proto": "https" },
      body: JSON.stringify({ token, name: "via-proxy" }),
    });
    expect(proxied.status).toBe(201);
    expect(existsSync(join(plain.dataDir, TLS_KEY_FILE))).toBe(false);
  });
});

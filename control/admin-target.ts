/** @module Where the admin subcommands (`control devices|sessions|spool|token create`) send their calls: the node's base URL, trust and admin token. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../cli/command.ts";
import { certificatePinOfPem } from "../crypto/certificate-pin.ts";
import { type NodeTrust, nodeFetch } from "../protocol/node-fetch.ts";
import { ADMIN_TOKEN_FILE } from "./admin-token.ts";
import { configFrom } from "./control-config-flags.ts";
import type { ResolveTarget } from "./ops/admin-cli.ts";
import { servingNode } from "./serving-node.ts";
import { TLS_CERT_FILE } from "./tls/node-certificate.ts";

/** Where `control devices|sessions|spool|token create` send their admin API calls, and with which token. */
export const resolveTarget: ResolveTarget = (values) => {
  const cfg = configFrom(values);
  const addr =
    values.node ?? process.env.PVRLINK_NODE ?? servingNode(cfg.data)?.http ?? cfg.publicHttp ?? cfg.http;
  const scheme = cfg.insecureHttp ? "http" : "https";
  const base = /^https?:\/\//.test(addr) ? addr.replace(/\/$/, "") : `${scheme}://${addr}`;
  // The node's self-signed certificate is trusted by its pin (from DATA/node.json or DATA's certificate file),
  // exactly as a recorder trusts it; an operator's CA certificate by the system CAs.
  const certFile = join(cfg.data, TLS_CERT_FILE);
  const pin =
    servingNode(cfg.data)?.pin ??
    (cfg.tlsCert === null && existsSync(certFile)
      ? certificatePinOfPem(readFileSync(certFile, "utf8"))
      : undefined);
  const trust: NodeTrust = base.startsWith("http:")
    ? { kind: "insecure-http" }
    : pin !== undefined
      ? { kind: "pin", pin }
      : { kind: "ca" };
  let token = process.env.PVRLINK_ADMIN_TOKEN ?? cfg.adminToken;
  if (!token) {
    const file = join(cfg.data, ADMIN_TOKEN_FILE);
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new InputError(
        `Cannot read the admin token from ${file}: ${(err as Error).message}; set PVRLINK_ADMIN_TOKEN or --data`,
        "ERR_ADMIN_TOKEN",
      );
    }
  }
  return { base, token, fetch: nodeFetch(trust) };
};

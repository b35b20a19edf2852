/** @module The control commands' configuration flags: the TLS flags they share, and flags plus PVRLINK_* variables over the --config file. */
import { type ControlConfig, loadConfig } from "./control-config.ts";

/** How the node serves HTTP; enroll and token take them too, so the credential they print says the same. */
export const TLS_FLAGS = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "insecure-http": { type: "boolean" },
} as const;

/** The configuration a control command runs with: its flags, then PVRLINK_HTTP/PVRLINK_UDP, then the --config file. */
export function configFrom(values: {
  config?: string;
  data?: string;
  http?: string;
  udp?: string;
  store?: string;
  spool?: string;
  role?: string;
  nats?: string;
  "allow-private-addresses"?: boolean;
  "tls-cert"?: string;
  "tls-key"?: string;
  "insecure-http"?: boolean;
}): ControlConfig {
  const overrides: Partial<ControlConfig> = {};
  if (values.role !== undefined) overrides.role = values.role as ControlConfig["role"];
  if (values.nats !== undefined) overrides.nats = values.nats;
  if (values.store !== undefined) overrides.store = values.store;
  if (values.spool !== undefined) overrides.spool = values.spool;
  if (values["allow-private-addresses"]) overrides.allowPrivateAddresses = true;
  if (values["tls-cert"] !== undefined) overrides.tlsCert = values["tls-cert"];
  if (values["tls-key"] !== undefined) overrides.tlsKey = values["tls-key"];
  if (values["insecure-http"] === true) overrides.insecureHttp = true;
  if (values.data !== undefined) overrides.data = values.data;
  const http = values.http ?? process.env.PVRLINK_HTTP;
  const udp = values.udp ?? process.env.PVRLINK_UDP;
  if (http) overrides.http = http;
  if (udp) overrides.udp = udp;
  return loadConfig(values.config, overrides);
}

/** @module The flags every recorder-side command accepts, and the values they parse to. */

/** Flags every recorder-side command accepts; spread into a command's parseFlags spec. */
export const CONFIG_FLAGS = {
  config: { type: "string" },
  name: { type: "string" },
  node: { type: "string" },
  "node-udp": { type: "string" },
  data: { type: "string" },
  library: { type: "string" },
  listen: { type: "string" },
  advertise: { type: "string" },
  "load-cpu": { type: "string" },
  "load-pressure": { type: "string" },
  "max-transfers": { type: "string" },
  keepalive: { type: "string" },
  policy: { type: "string" },
  "sealed-below": { type: "string" },
  "partial-hold": { type: "string" },
} as const;

export type ConfigFlagValues = { [K in keyof typeof CONFIG_FLAGS]?: string | undefined };

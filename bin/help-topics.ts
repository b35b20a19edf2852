/** @module `pvrlink help TOPIC`: the documentation shipped inside the binary, imported as text at build time. */
import architecture from "../docs/architecture.md" with { type: "text" };
import nat from "../docs/nat.md" with { type: "text" };
import protocol from "../docs/protocol.md" with { type: "text" };
import security from "../docs/security.md" with { type: "text" };
import splitFormat from "../docs/split-format.md" with { type: "text" };
import recorder from "../firmware/recorder/README.md" with { type: "text" };
import readme from "../README.md" with { type: "text" };

/** Topic name, one-line summary, text. */
export const HELP_TOPICS: ReadonlyArray<readonly [string, string, string]> = [
  ["start", "the README: what pvrlink is and the walkthrough", readme],
  ["architecture", "roles, the data flow of one send, keys, folders", architecture],
  ["daemon", "the recorder daemon: data directory files, keepalive, registration, settings", recorder],
  ["protocol", "every message, its fields and its errors", protocol],
  ["security", "what an eavesdropper on the direct channel sees; the pattern mode", security],
  ["split-format", "the protected/direct part format and inspect --json", splitFormat],
  ["nat", "behaviour behind NAT", nat],
];

/** The list `pvrlink help` ends with. */
export function topicList(): string {
  const width = Math.max(...HELP_TOPICS.map(([n]) => n.length));
  return [
    "Help topics (pvrlink help TOPIC):",
    ...HELP_TOPICS.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
  ].join("\n");
}

export function helpTopic(name: string): string | undefined {
  return HELP_TOPICS.find(([n]) => n === name)?.[2];
}

/** @module `pvrlink send FILE|ID --to NAME`: sends a recording by its attributes and prints what went which way. */
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { type Command, EXIT_INPUT, EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { toBase64url } from "../../crypto/random-token.ts";
import { ControlClient } from "../../protocol/control-client.ts";
import { loadCredential } from "../config/credential-store.ts";
import {
  CONFIG_FLAGS,
  type ConfigFlagValues,
  parseHostPort,
  resolveConfig,
} from "../config/recorder-config.ts";
import { openInput } from "../files/recording-file.ts";
import { Library, type ProtectionMode, parseProtection } from "../library/library.ts";
import { formatBytes } from "../progress/format-progress.ts";
import { chooseProgressMode, ProgressReporter } from "../progress/progress-reporter.ts";
import { shouldResendThroughRelay } from "../send/resend-through-relay.ts";
import { planSend } from "../send/send-plan.ts";
import { type SendOptions, type SendResult, sendRecording } from "../send/send-recording.ts";

const HELP = `Usage: pvrlink send FILE|ID --to NAME [--store-if-busy] [--secret] [--protection seed|pattern]
                   [--json] [--quiet] [--data DIR]

Sends a recording to the recorder named NAME, routed by its attributes (seed A):
  secret      the whole recording, sealed end to end, through the control node's relay;
  data        the whole recording directly (in clear, every frame authenticated with the session key);
  video       split: the I-picture bytes sealed through the node, the rest directly, both at once;
              in pattern protection (the default) the start of every P/B slice of the direct part is
              encrypted too, so an eavesdropper on the direct path decodes nothing usable. MPEG-1/2 only:
              H.264 and MP4 video goes in seed mode, and the summary says so (docs/security.md).
ID is a library recording (its attributes come from the library); FILE is any file (its type is detected,
--secret marks it secret). When the direct connection cannot be made, everything goes through the node,
still encrypted end to end, and the summary says so. The receiver merges byte-exact, checks the SHA-256 and
files the recording; send exits 0 only on its verified receipt.

When NAME is busy the node can store the recording for later pickup: --store-if-busy accepts that, and on a
terminal you are asked. The lease is extended at 70% of the permitted time while the transfer runs.

Options:
  --to NAME          the receiving recorder's device name (required)
  --store-if-busy    store on the node when NAME is busy
  --secret           treat FILE as secret (library recordings carry their own attribute)
  --protection M     seed or pattern for video, over the library's attribute (default: pattern)
  --direct HOST:PORT dial NAME's direct channel at HOST:PORT instead of its registered address
  --json             JSON lines: progress, log events, and the summary last
  --quiet            only the summary
  --data DIR, --config FILE, --node URL: as for 'pvrlink recorder'

Exit codes: 0 verified by the receiver (or stored on the node), 1 refused or failed (the code says why:
permission_denied, callee_not_found, callee_not_connected, callee_busy, session_ended, relay_upload_failed, ...),
2 bad usage.`;

const FLAGS = {
  ...CONFIG_FLAGS,
  to: { type: "string" },
  "store-if-busy": { type: "boolean" },
  secret: { type: "boolean" },
  protection: { type: "string" },
  direct: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

export const command: Command = {
  summary: "send a recording to another recorder",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (positionals.length !== 1) throw new UsageError(`expected one FILE or ID, got ${positionals.length}`);
    if (values.to === undefined || values.to === "") throw new UsageError("--to NAME is required");
    const direct = values.direct === undefined ? undefined : parseHostPort(values.direct, "--direct");
    let protection: ProtectionMode | undefined;
    try {
      protection = values.protection === undefined ? undefined : parseProtection(values.protection);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const config = await resolveConfig(values as ConfigFlagValues);
    const cred = await loadCredential(config.credentialPath);
    const nodeUrl = (
      values.node !== undefined || !cred.node.includes("://") ? config.nodeUrl : cred.node
    ).replace(/\/$/, "");
    // The same choice as the daemon's (recorder-command.ts): the credential's node.udp unless a flag overrides it.
    const nodeUdp =
      values["node-udp"] !== undefined || cred.nodeUdp === undefined
        ? config.nodeUdp
        : parseHostPort(cred.nodeUdp, "credential node.udp");
    const client = new ControlClient({
      baseUrl: nodeUrl,
      deviceId: cred.id,
      secret: toBase64url(cred.secretBytes()),
    });

    const target = positionals[0] as string;
    const { path, known } = await locate(target, config, values.secret === true);
    await using input = await openInput(path);
    const plan = await planSend(input, path, {
      ...known,
      ...(protection !== undefined ? { protection } : {}),
    });

    const json = values.json === true;
    const tty = process.stderr.isTTY === true && process.stdin.isTTY === true;
    const mode = chooseProgressMode({
      json,
      quiet: values.quiet === true,
      isTTY: process.stderr.isTTY === true,
    });
    const progress = new ProgressReporter({
      label: plan.name,
      total: plan.size,
      mode,
      ...(json ? { write: (t: string) => process.stdout.write(t) } : {}),
    });
    const say = (event: string, message: string) => {
      if (values.quiet) return;
      if (json) process.stdout.write(`${JSON.stringify({ event, message })}\n`);
      else process.stderr.write(`${mode === "tty" ? "\r\x1b[K" : ""}${message}\n`);
    };
    say("plan", describePlan(plan));
    const options: SendOptions = {
      client,
      deviceId: cred.id,
      deviceName: cred.name,
      plan,
      to: values.to,
      storeIfBusy:
        values["store-if-busy"] === true ? true : tty && !json ? () => askStore(values.to as string) : false,
      ...(direct ? { dialOverride: direct } : {}),
      punch: { node: nodeUdp, secret: cred.secretBytes() },
      onEvent: (e) => {
        if (e.type === "progress") progress.update(e.done);
        else say("log", e.message);
      },
    };
    let result = await sendRecording(options);
    if (shouldResendThroughRelay(result)) {
      // The callee dropped the partial file with the broken channel: a new session, everything sealed via the node.
      say(
        "log",
        `the direct path to ${values.to} broke mid-transfer (${result.message}); sending it again through the node, encrypted`,
      );
      const first = result;
      result = await sendRecording({ ...options, relayOnly: true });
      result.firstAttempt = {
        ...(first.sessionId ? { sessionId: first.sessionId } : {}),
        ...(first.code ? { code: first.code } : {}),
        message: first.message,
        ...(first.directPath ? { directPath: first.directPath } : {}),
        bytesDirect: first.bytesDirect,
      };
    }
    if (result.ok) progress.finish(plan.size);
    printSummary(result, json);
    return result.ok ? EXIT_OK : EXIT_INPUT;
  },
};

/** A library id (rec_...) takes the library's copy and attributes; anything else must be a readable file. */
async function locate(
  target: string,
  config: Awaited<ReturnType<typeof resolveConfig>>,
  secret: boolean,
): Promise<{
  path: string;
  known: {
    name?: string;
    secret?: boolean;
    type?: import("../library/detect-recording-type.ts").RecordingType;
    protection?: ProtectionMode;
  };
}> {
  if (/^rec_[A-Za-z0-9_-]+$/.test(target)) {
    using library = await Library.open(config.dataDir, config.libraryDir);
    const rec = library.get(target);
    if (!rec)
      throw new InputError(
        `Cannot send ${target}: no such recording in the library`,
        "ERR_SEND_NO_RECORDING",
      );
    return {
      path: rec.path,
      known: {
        name: rec.name,
        secret: rec.secret || secret,
        type: rec.type,
        ...(rec.protection ? { protection: rec.protection } : {}),
      },
    };
  }
  try {
    if (!(await stat(target)).isFile()) throw new Error("not a regular file");
  } catch (err) {
    throw new InputError(`Cannot send ${target}: ${(err as Error).message}`, "ERR_SEND_NO_FILE");
  }
  return { path: target, known: { secret } };
}

function describePlan(p: Awaited<ReturnType<typeof planSend>>): string {
  if (p.route === "secret")
    return `${p.name}: secret ${p.recordingType}, ${formatBytes(p.size)}: all of it sealed through the node`;
  if (p.route === "data") return `${p.name}: data, ${formatBytes(p.size)}: directly (clear, authenticated)`;
  const s = p.split;
  const direct =
    s?.protection === "pattern"
      ? `directly with ${formatBytes(s.pattern?.encryptedBytes ?? 0)} of its P/B slice starts encrypted (pattern)`
      : "directly (seed: P/B pictures in clear)";
  return `${p.name}: ${p.recordingType} video, ${formatBytes(p.size)}, ${s?.iPictures ?? 0} I-pictures: ${formatBytes(s?.protectedSize ?? 0)} protected part sealed through the node, ${formatBytes(s?.directSize ?? 0)} direct part ${direct}`;
}

async function askStore(name: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = await rl.question(
      `${name} is busy. Store the recording on the node for later pickup (encrypted)? [y/N] `,
    );
    return /^y(es)?$/i.test(a.trim());
  } finally {
    rl.close();
  }
}

function printSummary(r: SendResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: "summary", ...r })}\n`);
    return;
  }
  const lines = [r.ok ? `sent: ${r.message}` : `not sent (${r.code}): ${r.message}`];
  if (r.mode !== "none") {
    lines.push(
      `  route ${r.route}${r.mode === "store" ? " (stored on the node)" : ""}${r.fallback ? `; fallback: everything through the node (${r.fallbackReason})` : ""}`,
      `  direct: ${formatBytes(r.bytesDirect)} (${r.bytesDirect} bytes, clear, authenticated${r.directPath ? `; path ${r.directPath}` : ""})`,
      `  through the node, encrypted: ${formatBytes(r.bytesRelay)} sealed (${r.bytesRelayPayload} payload bytes)`,
    );
    if (r.firstAttempt) {
      const f = r.firstAttempt;
      lines.push(
        `  first attempt: the ${f.directPath ?? "direct"} path broke after ${formatBytes(f.bytesDirect)} direct (${f.code ?? "failed"}); sent again through the node`,
      );
    }
    if (r.iPictures !== undefined) lines.push(`  I-pictures protected: ${r.iPictures}`);
    if (r.protection === "pattern")
      lines.push(
        `  pattern mode: ${r.patternBytes ?? 0} bytes of P/B slice starts encrypted on the direct channel`,
      );
    if (r.extensions > 0) lines.push(`  lease extensions: ${r.extensions}`);
    if (r.forcedEnd) lines.push("  the session was ended by the node or the peer");
  }
  (r.ok ? process.stdout : process.stderr).write(`${lines.join("\n")}\n`);
}

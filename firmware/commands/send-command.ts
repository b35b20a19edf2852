/** @module `pvrlink send FILE|ID --to NAME`: sends a recording by its attributes and prints what went which way. */
import { createInterface } from "node:readline/promises";
import { type Command, EXIT_INPUT, EXIT_OK, InputError, UsageError } from "../../cli/command.ts";
import { errorLine, formatErrorLine } from "../../cli/error-line.ts";
import { parseFlags } from "../../cli/parse-flags.ts";
import { toBase64url } from "../../crypto/random-token.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { CONFIG_FLAGS, type ConfigFlagValues } from "../config/config-flags.ts";
import { parseHostPort } from "../config/config-value-parsers.ts";
import { loadCredential } from "../config/credential-store.ts";
import { resolveConfig } from "../config/recorder-config.ts";
import { recorderNodeClient } from "../config/recorder-node-client.ts";
import { openInput } from "../files/recording-file.ts";
import { loadOrCreateIdentity } from "../identity/identity-key-file.ts";
import { transferKeyFor } from "../identity/transfer-key.ts";
import { type ProtectionMode, parseProtection } from "../library/protection-mode.ts";
import { PeerPins } from "../peers/peer-pins.ts";
import { lowerProcessPriority } from "../priority/process-priority.ts";
import { formatBytes } from "../progress/format-progress.ts";
import { chooseProgressMode, ProgressReporter } from "../progress/progress-reporter.ts";
import { cancelStoreSend } from "../send/cancel-store-send.ts";
import {
  loadPendingFallbackSend,
  PENDING_FALLBACK_SEND_VERSION,
  removePendingFallbackSend,
  savePendingFallbackSend,
} from "../send/pending-fallback-send.ts";
import {
  loadCancellableStoreSend,
  loadPendingStoreSend,
  PENDING_STORE_SEND_VERSION,
  type PendingStoreSend,
  removePendingStoreSend,
  savePendingStoreSend,
} from "../send/pending-store-send.ts";
import { PlanSpillFiles } from "../send/plan-spill-file.ts";
import { resumeFallbackSend } from "../send/resume-fallback-send.ts";
import { resumeStoreSend } from "../send/resume-store-send.ts";
import { planSend, type SendPlan } from "../send/send-plan.ts";
import type { SendEvent, SendOptions } from "../send/send-recording.ts";
import { sendWithRelayResend } from "../send/send-with-relay-resend.ts";
import { describeSendPlan } from "./describe-send-plan.ts";
import { locateRecording } from "./locate-recording.ts";
import { printSendSummary } from "./print-send-summary.ts";
import { nextStep } from "./send-next-step.ts";

const HELP = `Usage: pvrlink send FILE|ID --to NAME [--store-if-busy] [--secret] [--protection sealed|seed|pattern]
                   [--resume | --cancel] [--json] [--quiet] [--data DIR]

Sends a recording to the recorder named NAME, routed by its attributes (seed A):
  secret      the whole recording, sealed end to end, through the control node's relay;
  data        the whole recording directly;
  video       split: the I-picture bytes sealed through the node, the rest directly, both at once.
The direct channel seals every frame by default (protection "sealed", under a key only the two recorders
hold). Two light modes for boxes without AES instructions send the direct part clear but authenticated:
"seed" (as seed A specifies: P/B pictures readable on the path) and "pattern" (1 in 10 blocks of every P/B
slice encrypted, so an eavesdropper decodes nothing usable; MPEG-1/2 only, H.264 falls back to seed and the
summary says so). 'pvrlink help security' says what each reveals.
With a size rule (--sealed-below BYTES, or sealedBelowBytes in the config; seed A variation 10) a recording
that is not secret and smaller than BYTES goes whole, sealed, through the node (route "small"); the node's own
size threshold still applies. The summary and --json say which rule chose the route: secret, size or type.
ID is a library recording (its attributes come from the library); FILE is any file (its type is detected,
--secret marks it secret). When the direct connection cannot be made, everything goes through the node,
still encrypted end to end, and the summary says so. The receiver merges byte-exact, checks the SHA-256 and
files the recording; send exits 0 only on its verified receipt.

When NAME is busy, or its recorder is off, the node offers to store the recording for later pickup, if its
size threshold and your quota on it allow (the query tells it the size): --store-if-busy accepts that offer,
and on a terminal you are asked; when the node cannot store it, the summary says why (transfer_too_large,
quota_exceeded, spool_full). The lease is extended at 70% of the permitted time while the transfer runs.
A send interrupted (Ctrl-C, a crash, a broken connection) can be finished later with the same FILE, --to NAME
and --resume. A live send (NAME was on): NAME keeps what it received (for 24 h by default) and the resumed
send, in a new session, sends only the rest on every stream; NAME still checks the whole recording's SHA-256.
A live send that went through the node (no direct path) goes on in its own session, uploading only what the
node lacks, while that session lasts (resume_expired after it: send again).
A store send: the upload goes on from what the node already holds, while the store session's lease lasts;
--cancel gives it up instead (the node drops the partial upload and frees your quota on it at once). A live
send's partial needs no cancelling: it expires on NAME, and a send without --resume starts over.

Options:
  --to NAME          the receiving recorder's device name (required)
  --store-if-busy    store on the node when NAME is busy or off (picked up when it is back)
  --secret           treat FILE as secret (library recordings carry their own attribute)
  --protection M     sealed, seed or pattern, over the library's attribute (default: sealed)
  --resume           finish an interrupted send of FILE to NAME: only what NAME (or the node) lacks is sent
  --cancel           give up an interrupted store-and-forward send of FILE to NAME (the node drops it)
  --sealed-below N   size rule: a non-secret recording under N bytes goes sealed through the node
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
  resume: { type: "boolean" },
  cancel: { type: "boolean" },
} as const;

export const command: Command = {
  summary: "send a recording to another recorder",
  help: HELP,
  async run(args) {
    const json = args.includes("--json");
    try {
      return await send(args);
    } catch (err) {
      if (!json) throw err;
      // --json always ends with a summary event, whatever stopped the send.
      const e = errorLine(err);
      const summary = { event: "summary", ok: false, code: e.code, message: e.message, next: e.next ?? null };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.stderr.write(`pvrlink send: ${formatErrorLine(e)}\n`);
      return e.exit;
    }
  },
};

async function send(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (positionals.length !== 1) throw new UsageError(`expected one FILE or ID, got ${positionals.length}`);
  if (values.to === undefined || values.to === "") throw new UsageError("--to NAME is required");
  if (values.resume && values.cancel) throw new UsageError("--resume and --cancel exclude each other");
  const direct = values.direct === undefined ? undefined : parseHostPort(values.direct, "--direct");
  let protection: ProtectionMode | undefined;
  try {
    protection = values.protection === undefined ? undefined : parseProtection(values.protection);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const config = await resolveConfig(values as ConfigFlagValues);
  // Before the first read of the recording: the index pass and the transfer both run beside the recording.
  const priority = lowerProcessPriority(config.priority);
  const cred = await loadCredential(config.credentialPath);
  // The node would refuse it like a stranger's call; this recorder knows its own name and can say so plainly.
  if (values.to.trim().toLowerCase() === cred.name.trim().toLowerCase())
    throw new InputError(
      `Cannot send to ${values.to}: that is this recorder's own name; name the receiving recorder with --to`,
      "ERR_SEND_TO_SELF",
    );
  const client = recorderNodeClient(cred, config, { nodeFlag: values.node !== undefined });

  const target = positionals[0] as string;
  const { path, known, from } = await locateRecording(target, config, values.secret === true);
  await using input = await openInput(path);
  // A pattern plan's tables go to unlinked files in the data dir (on disk, where /tmp may be memory) for the
  // send's length: the plan grows with the recording (~3.3 MB a GiB of SD video), the sender's memory must not.
  using spill = new PlanSpillFiles(config.dataDir);
  const plan = await planSend(input, path, {
    ...known,
    ...(protection !== undefined ? { protection } : {}),
    sealedBelowBytes: config.sealedBelowBytes,
    spill,
  });

  const json = values.json === true;
  if (values.cancel) return await cancel({ client, plan, to: values.to, dataDir: config.dataDir, json });
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
    else if (mode === "tty") progress.log(message);
    else process.stderr.write(`${message}\n`);
  };
  if (from !== undefined && from.path !== path)
    say(
      "plan",
      `${target} is ${from.id} in the library (same SHA-256): its attributes apply${known.secret ? ", secret" : ""}`,
    );
  say("plan", describeSendPlan(plan));
  for (const problem of priority.problems) say("log", problem);
  const to = values.to;
  progress.phase(`asking the node for ${to}`);
  let sent = 0;
  // Ctrl-C ends the send with a final line and (with --json) a summary, instead of vanishing mid-line.
  let onInterrupt: () => void = () => {};
  // A store send's session and transfer, kept in the data dir from its creation: what --resume continues.
  let storing = false;
  // A live send without a direct channel: its transfers' record, kept from their creation, is what --resume continues.
  let viaNode = false;
  const interrupted = new Promise<never>((_, reject) => {
    onInterrupt = () => {
      progress.finish(sent, "interrupted");
      const resume = storing
        ? `; it was being stored on the node: 'pvrlink send ${target} --to ${to} --resume' finishes it (--cancel gives it up)`
        : viaNode
          ? `; it was going through the node (no direct path): 'pvrlink send ${target} --to ${to} --resume' uploads only what the node lacks, while its session lasts`
          : `; ${to} keeps what it received: 'pvrlink send ${target} --to ${to} --resume' sends only the rest`;
      reject(
        new InputError(
          `Cannot finish sending ${plan.name} to ${to}: interrupted after ${formatBytes(sent)} of ${formatBytes(plan.size)}${resume}`,
          "ERR_INTERRUPTED",
        ),
      );
    };
  });
  process.once("SIGINT", onInterrupt);
  const peers = new PeerPins(config.dataDir);
  const me = await loadOrCreateIdentity(config.dataDir);
  // The same choice as the daemon's (recorder-command.ts): the credential's node.udp unless a flag overrides it.
  const nodeUdp =
    values["node-udp"] !== undefined || cred.nodeUdp === undefined
      ? config.nodeUdp
      : parseHostPort(cred.nodeUdp, "credential node.udp");
  const onEvent = (e: SendEvent) => {
    if (e.type !== "progress") return say("log", e.message);
    sent = e.done;
    // Every byte out is not the end: the receiver merges, hashes and files before it answers.
    progress.update(e.done);
    progress.phase(e.done >= plan.size ? `waiting for ${to} to verify` : "sending");
  };
  const options: SendOptions = {
    client,
    deviceId: cred.id,
    deviceName: cred.name,
    plan,
    to,
    storeIfBusy: values["store-if-busy"] === true ? true : tty && !json ? () => askStore(to) : false,
    ...(direct ? { dialOverride: direct } : {}),
    punch: { node: nodeUdp, secret: cred.secretBytes() },
    checkPeer: (callee) => peers.verdict(callee.name, callee.publicKey),
    transferKey: (s, callee) => transferKeyFor(me, s, { publicKey: callee.publicKey, role: "callee" }),
    onEvent,
    // The key saved is the one that seals the upload: the store key with its HPKE enc, or (a callee without an
    // identity key) the transfer key, which calleeTrusted put in place of the node's before this.
    onStoreTransfer: ({ session, transfer, store }) => {
      savePendingStoreSend(config.dataDir, {
        version: PENDING_STORE_SEND_VERSION,
        sessionId: session.id,
        key: store?.key ?? session.key,
        ...(store ? { enc: toBase64url(store.enc) } : {}),
        expiresAt: session.expiresAt,
        transfer,
        sha256: plan.sha256,
        size: plan.size,
        to,
        calleeName: to,
      });
      storing = true;
    },
    onFallbackTransfers: ({ session, key, enc, transfers }) => {
      savePendingFallbackSend(config.dataDir, {
        version: PENDING_FALLBACK_SEND_VERSION,
        sessionId: session.id,
        key,
        ...(enc ? { enc: toBase64url(enc) } : {}),
        expiresAt: session.expiresAt,
        sender: cred.name,
        transfers,
        sha256: plan.sha256,
        size: plan.size,
        to,
      });
      viaNode = true;
    },
  };
  // --resume: a store send recorded here goes on at the node's offset; any other is a live resume, in which
  // the callee says what it kept (the one that knows what is on its disk), so nothing is recorded here.
  // A fallback send recorded here (no direct channel, so no RESUME/HELD) goes on in its session at the node's offsets.
  const pending = values.resume ? pendingFor(config.dataDir, plan, to) : undefined;
  const fallback =
    values.resume && !pending ? loadPendingFallbackSend(config.dataDir, plan.sha256, to) : undefined;
  const sending = pending
    ? resumeStoreSend({ client, deviceName: cred.name, plan, onEvent }, pending)
    : fallback
      ? resumeFallbackSend({ client, plan, onEvent }, fallback)
      : sendWithRelayResend({ ...options, ...(values.resume ? { resume: true } : {}) }, (message) =>
          // The callee dropped the partial file with the broken channel: a new session, everything sealed via the node.
          say(
            "log",
            `the direct path to ${to} broke mid-transfer (${message}); sending it again through the node, encrypted`,
          ),
        );
  const result = await Promise.race([sending, interrupted]).finally(() => process.off("SIGINT", onInterrupt));
  if (result.ok && result.mode === "store") removePendingStoreSend(config.dataDir, plan.sha256, to);
  // A result means the session's end was reported (or it was over): nothing is left to resume.
  if (result.code !== "resume_mismatch") removePendingFallbackSend(config.dataDir, plan.sha256, to);
  progress.finish(
    result.ok ? plan.size : sent,
    result.ok
      ? result.mode === "store"
        ? "stored on the node"
        : `verified by ${to}`
      : `not sent (${result.code})`,
  );
  const next = result.ok
    ? undefined
    : (nextStep(result.code, {
        to: values.to,
        me: cred.name,
        storeIfBusy: values["store-if-busy"] === true,
        storeOffered: result.store?.offered !== false,
      }) ??
      // A live send cut mid-transfer: the callee kept what it received.
      (result.mode === "live" && result.bytesDirect + result.bytesRelay > 0
        ? `${to} keeps what it received: 'pvrlink send ${target} --to ${to} --resume' sends only the rest`
        : undefined));
  printSendSummary(result, json, next);
  return result.ok ? EXIT_OK : EXIT_INPUT;
}

/** `send --cancel`: the node drops the interrupted store send's partial upload; the record goes with it. */
async function cancel(o: {
  client: ControlClient;
  plan: SendPlan;
  to: string;
  dataDir: string;
  json: boolean;
}): Promise<number> {
  const pending = loadCancellableStoreSend(o.dataDir, o.plan.sha256, o.to);
  if (pending === undefined)
    throw new InputError(
      `Cannot cancel sending ${o.plan.name} to ${o.to}: no interrupted store-and-forward send of it is recorded in ${o.dataDir} (what ${o.to} kept of an interrupted live send expires there, and a send without --resume starts over)`,
      "ERR_NOTHING_TO_CANCEL",
    );
  const held = await cancelStoreSend(o.client, pending);
  removePendingStoreSend(o.dataDir, o.plan.sha256, o.to);
  const message = `cancelled storing ${o.plan.name} for ${o.to}: the node dropped the ${formatBytes(held)} it held`;
  process.stdout.write(
    o.json
      ? `${JSON.stringify({ event: "summary", ok: true, mode: "cancelled", message, sessionId: pending.sessionId })}\n`
      : `${message}\n`,
  );
  return EXIT_OK;
}

/** The interrupted store send of this recording to `to` that --resume continues; undefined: a live resume. */
function pendingFor(dataDir: string, plan: SendPlan, to: string): PendingStoreSend | undefined {
  const pending = loadPendingStoreSend(dataDir, plan.sha256, to);
  if (pending === undefined) return undefined;
  if (pending.expiresAt <= Date.now()) {
    removePendingStoreSend(dataDir, plan.sha256, to);
    throw new InputError(
      `Cannot resume sending ${plan.name} to ${to}: its store session's lease ended ${new Date(pending.expiresAt).toISOString()} and the node dropped the partial upload; send it again`,
      "ERR_RESUME_EXPIRED",
    );
  }
  return pending;
}

async function askStore(name: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // \r ESC[K: the question replaces the progress line rather than trailing it.
    const a = await rl.question(
      `\r\x1b[K${name} is busy or off. Store the recording on the node for later pickup (encrypted)? [y/N] `,
    );
    return /^y(es)?$/i.test(a.trim());
  } finally {
    rl.close();
  }
}

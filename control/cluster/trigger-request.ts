/** @module The NATS trigger request between an HTTP node and the UDP node that owns a device: its subject and its JSON, checked both ways. */
import { TRIGGER_KINDS, type TriggerKind } from "../../protocol/trigger-datagram.ts";

/** Subject a UDP node answers trigger requests on; node ids are [A-Za-z0-9_-] so they are one NATS token. */
export function triggerSubject(nodeId: string): string {
  return `pvrlink.udp.${nodeId}.trigger`;
}

/** UDP node ids: one NATS subject token (no dots, spaces or wildcards). */
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface TriggerRequest {
  deviceId: string;
  kind: TriggerKind;
  ref: Record<string, unknown>;
  deadlineMs: number;
}

/** The owner's answer: the recorder's ACK (with its answer, if any), or null when it did not ACK in time. */
export type TriggerReply = { ack: { answer?: string } | null };

/** Largest request accepted; a trigger's ref is a few ids. */
export const MAX_TRIGGER_REQUEST_BYTES = 4096;
const MAX_DEADLINE_MS = 60_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeTriggerRequest(r: TriggerRequest): Uint8Array {
  return encoder.encode(JSON.stringify(r));
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.byteLength > MAX_TRIGGER_REQUEST_BYTES)
    throw new RangeError(
      `Cannot read ${what}: ${bytes.byteLength} bytes is above ${MAX_TRIGGER_REQUEST_BYTES}`,
    );
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new SyntaxError(`Cannot read ${what}: not UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SyntaxError(`Cannot read ${what}: not JSON`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a request from the bus; throws SyntaxError/RangeError/TypeError with the reason for anything else. */
export function decodeTriggerRequest(bytes: Uint8Array): TriggerRequest {
  const o = parseJson(bytes, "trigger request");
  if (!isObject(o)) throw new TypeError("Cannot read trigger request: not a JSON object");
  const { deviceId, kind, ref, deadlineMs } = o;
  if (typeof deviceId !== "string" || deviceId.length === 0 || deviceId.length > 64)
    throw new TypeError("Cannot read trigger request: deviceId must be a 1-64 character string");
  if (typeof kind !== "string" || !(TRIGGER_KINDS as readonly string[]).includes(kind))
    throw new TypeError(`Cannot read trigger request: kind must be one of ${TRIGGER_KINDS.join(", ")}`);
  if (!isObject(ref)) throw new TypeError("Cannot read trigger request: ref must be an object");
  if (
    typeof deadlineMs !== "number" ||
    !Number.isInteger(deadlineMs) ||
    deadlineMs < 1 ||
    deadlineMs > MAX_DEADLINE_MS
  )
    throw new RangeError(
      `Cannot read trigger request: deadlineMs must be an integer in 1..${MAX_DEADLINE_MS}`,
    );
  return { deviceId, kind: kind as TriggerKind, ref, deadlineMs };
}

export function encodeTriggerReply(r: TriggerReply): Uint8Array {
  return encoder.encode(JSON.stringify(r));
}

/** Checks an owner's reply; a reply that is not one is an error, never taken for an ACK. */
export function decodeTriggerReply(bytes: Uint8Array): TriggerReply {
  const o = parseJson(bytes, "trigger reply");
  if (!isObject(o) || !("ack" in o)) throw new TypeError("Cannot read trigger reply: no ack field");
  const ack = o.ack;
  if (ack === null) return { ack: null };
  if (!isObject(ack)) throw new TypeError("Cannot read trigger reply: ack must be an object or null");
  if (ack.answer === undefined) return { ack: {} };
  if (typeof ack.answer !== "string" || ack.answer.length > 64)
    throw new TypeError("Cannot read trigger reply: answer must be a string of at most 64 characters");
  return { ack: { answer: ack.answer } };
}

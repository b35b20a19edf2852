/** @module Builders of small, exactly known PS/TS structures for the container tests (not used by the codec itself). */

import { crc32Mpeg } from "../../codec/container/mpeg-crc32.ts";
import { TS_PACKET_LENGTH, TS_SYNC_BYTE } from "../../codec/container/ts-packet.ts";

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 5-byte PTS/DTS field with prefix bits `prefix` (ISO/IEC 13818-1 2.4.3.6). */
export function timestamp(prefix: number, value: number): number[] {
  const high = Math.floor(value / 2 ** 30) & 0x07;
  const mid = Math.floor(value / 2 ** 15) & 0x7fff;
  const low = value & 0x7fff;
  return [
    (prefix << 4) | (high << 1) | 1,
    mid >> 7,
    ((mid & 0x7f) << 1) | 1,
    low >> 7,
    ((low & 0x7f) << 1) | 1,
  ];
}

/** An MPEG-2 syntax PES packet; `length0` writes PES_packet_length 0 (TS video). */
export function pes2(
  streamId: number,
  payload: Uint8Array,
  opts: { pts?: number; length0?: boolean; extraHeader?: number } = {},
): Uint8Array {
  const stamp = opts.pts === undefined ? [] : timestamp(0b0010, opts.pts);
  const extra = new Array<number>(opts.extraHeader ?? 0).fill(0xff);
  const header = [
    0x80,
    opts.pts === undefined ? 0x00 : 0x80,
    stamp.length + extra.length,
    ...stamp,
    ...extra,
  ];
  const len = opts.length0 ? 0 : header.length + payload.length;
  return concat(new Uint8Array([0, 0, 1, streamId, len >> 8, len & 0xff, ...header]), payload);
}

/** An MPEG-1 syntax packet with `stuffing` 0xFF bytes, STD buffer fields and an optional PTS. */
export function pes1(
  streamId: number,
  payload: Uint8Array,
  opts: { pts?: number; stuffing?: number } = {},
): Uint8Array {
  const header = [
    ...new Array<number>(opts.stuffing ?? 0).fill(0xff),
    0x40 | 0x20,
    0x10,
    ...(opts.pts === undefined ? [0x0f] : timestamp(0b0010, opts.pts)),
  ];
  const len = header.length + payload.length;
  return concat(new Uint8Array([0, 0, 1, streamId, len >> 8, len & 0xff, ...header]), payload);
}

/** A PES packet without optional header (padding, private_stream_2). */
export function pesRaw(streamId: number, payload: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0, 0, 1, streamId, payload.length >> 8, payload.length & 0xff]), payload);
}

/** MPEG-2 pack header with SCR base `scr` and `stuffing` bytes (ISO/IEC 13818-1 2.5.3.3). */
export function pack2(scr = 0, stuffing = 0): Uint8Array {
  const high = Math.floor(scr / 2 ** 30) & 0x07;
  const mid = Math.floor(scr / 2 ** 15) & 0x7fff;
  const low = scr & 0x7fff;
  const muxRate = 25200;
  return new Uint8Array([
    0,
    0,
    1,
    0xba,
    0x44 | (high << 3) | (mid >> 13),
    (mid >> 5) & 0xff,
    ((mid & 0x1f) << 3) | 0x04 | (low >> 13),
    (low >> 5) & 0xff,
    ((low & 0x1f) << 3) | 0x04,
    0x01,
    (muxRate >> 14) & 0xff,
    (muxRate >> 6) & 0xff,
    ((muxRate & 0x3f) << 2) | 0x03,
    0xf8 | stuffing,
    ...new Array<number>(stuffing).fill(0xff),
  ]);
}

/** MPEG-1 pack header (ISO/IEC 11172-1 2.4.3.2). */
export function pack1(scr = 0): Uint8Array {
  const muxRate = 3500;
  return new Uint8Array([
    0,
    0,
    1,
    0xba,
    ...timestamp(0b0010, scr),
    0x80 | (muxRate >> 15),
    (muxRate >> 7) & 0xff,
    ((muxRate & 0x7f) << 1) | 1,
  ]);
}

/** A system header with one video stream bound entry. */
export function systemHeader(): Uint8Array {
  const body = [0x80, 0x01, 0x01, 0x04, 0xe1, 0xff, 0xe0, 0xe0, 0xe8];
  return new Uint8Array([0, 0, 1, 0xbb, 0, body.length, ...body]);
}

/** A program stream map listing `streams` (ISO/IEC 13818-1 2.5.4.1), CRC_32 included. */
export function programStreamMap(streams: { streamType: number; streamId: number }[]): Uint8Array {
  const es = streams.flatMap((s) => [s.streamType, s.streamId, 0, 0]);
  const body = [0x81, 0x01, 0, 0, es.length >> 8, es.length & 0xff, ...es];
  const length = body.length + 4;
  const withoutCrc = new Uint8Array([0, 0, 1, 0xbc, length >> 8, length & 0xff, ...body]);
  return appendCrc(withoutCrc);
}

export function appendCrc(bytes: Uint8Array): Uint8Array {
  const crc = crc32Mpeg(bytes);
  return concat(bytes, new Uint8Array([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]));
}

/** A long-form PSI section with CRC_32. */
export function psiSection(
  tableId: number,
  tableIdExtension: number,
  body: number[],
  version = 0,
): Uint8Array {
  const sectionLength = 5 + body.length + 4;
  return appendCrc(
    new Uint8Array([
      tableId,
      0xb0 | (sectionLength >> 8),
      sectionLength & 0xff,
      tableIdExtension >> 8,
      tableIdExtension & 0xff,
      0xc1 | (version << 1),
      0,
      0,
      ...body,
    ]),
  );
}

export function patSection(programs: { programNumber: number; pid: number }[]): Uint8Array {
  return psiSection(
    0x00,
    1,
    programs.flatMap((p) => [
      p.programNumber >> 8,
      p.programNumber & 0xff,
      0xe0 | (p.pid >> 8),
      p.pid & 0xff,
    ]),
  );
}

export function pmtSection(
  programNumber: number,
  pcrPid: number,
  streams: { streamType: number; pid: number; infoLength?: number }[],
  programInfo = 0,
): Uint8Array {
  const body = [
    0xe0 | (pcrPid >> 8),
    pcrPid & 0xff,
    0xf0 | (programInfo >> 8),
    programInfo & 0xff,
    ...new Array<number>(programInfo).fill(0x00),
  ];
  for (const s of streams) {
    const info = s.infoLength ?? 0;
    body.push(
      s.streamType,
      0xe0 | (s.pid >> 8),
      s.pid & 0xff,
      0xf0 | (info >> 8),
      info & 0xff,
      ...new Array<number>(info).fill(0x05),
    );
  }
  return psiSection(0x02, programNumber, body);
}

export interface TsPacketOptions {
  pusi?: boolean;
  cc?: number;
  tei?: boolean;
  discontinuity?: boolean;
  scrambling?: number;
  /** Adaptation field without payload (adaptation_field_control '10'). */
  adaptationOnly?: boolean;
}

/** One 188-byte packet; a payload shorter than 184 bytes is padded with adaptation-field stuffing. */
export function tsPacket(pid: number, payload: Uint8Array, o: TsPacketOptions = {}): Uint8Array {
  if (payload.length > 184) throw new RangeError("payload above 184 bytes");
  const out = new Uint8Array(TS_PACKET_LENGTH);
  const needAf = o.adaptationOnly || payload.length < 184 || o.discontinuity;
  const afc = o.adaptationOnly ? 0b10 : needAf ? 0b11 : 0b01;
  out[0] = TS_SYNC_BYTE;
  out[1] = (o.tei ? 0x80 : 0) | (o.pusi ? 0x40 : 0) | (pid >> 8);
  out[2] = pid & 0xff;
  out[3] = ((o.scrambling ?? 0) << 6) | (afc << 4) | ((o.cc ?? 0) & 0x0f);
  let p = 4;
  if (needAf) {
    const afLength = o.adaptationOnly ? 183 : 183 - payload.length;
    out[p++] = afLength;
    if (afLength > 0) {
      out[p++] = o.discontinuity ? 0x80 : 0x00;
      out.fill(0xff, p, p + afLength - 1);
      p += afLength - 1;
    }
  }
  if (!o.adaptationOnly) out.set(payload, p);
  return out;
}

/** Splits a PES (or any payload) into TS packets of `pid` with counters from `cc`. */
export function packetize(pid: number, data: Uint8Array, cc = 0, psi = false): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  let first = true;
  const body = psi ? concat(new Uint8Array([0]), data) : data;
  while (p < body.length || first) {
    const take = Math.min(184, body.length - p);
    out.push(tsPacket(pid, body.subarray(p, p + take), { pusi: first, cc: cc++ }));
    p += take;
    first = false;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so fuzz runs repeat exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @module Tests for TsProgramTables: PAT to PMTs to the video PID, PSI errors, and skipping unchanged repeats. */
import { describe, expect, test } from "bun:test";
import { concat, patSection, pmtSection } from "../../test/support/synthetic-container-streams.ts";
import type { VideoFormat } from "../recording-index.ts";
import { TsProgramTables } from "./ts-program-tables.ts";

const PMT_PID = 0x1000;

/** A table packet's payload: pointer_field 0, the section, 0xFF stuffing to 184 bytes. */
function payload(section: Uint8Array): Uint8Array {
  const out = new Uint8Array(184).fill(0xff);
  out.set(concat(new Uint8Array([0]), section));
  return out;
}

function record() {
  const events: string[] = [];
  const tables = new TsProgramTables({
    pmtPid: (pid) => events.push(`pmt ${pid}`),
    video: (pid, format: VideoFormat) => events.push(`video ${pid} ${format}`),
    error: (offset, code) => events.push(`error ${offset} ${code}`),
  });
  const push = (pid: number, bytes: Uint8Array, offset: number, unitStart = true) =>
    tables.push(pid, bytes, 0, bytes.length, unitStart, offset);
  return { tables, events, push };
}

const pat = payload(patSection([{ programNumber: 1, pid: PMT_PID }]));
const pmt = (streamType: number) => payload(pmtSection(1, 0x100, [{ streamType, pid: 0x100 }]));

describe("TsProgramTables", () => {
  const cases: [string, number, string[]][] = [
    ["MPEG-2 video", 0x02, ["pmt 4096", "video 256 mpeg2"]],
    ["MPEG-1 video", 0x01, ["pmt 4096", "video 256 mpeg1"]],
    ["H.264", 0x1b, ["pmt 4096", "video 256 h264"]],
    ["HEVC", 0x24, ["pmt 4096", "video 256 hevc"]],
    ["audio only", 0x03, ["pmt 4096"]],
  ];
  for (const [name, streamType, want] of cases) {
    test(`TsProgramTables follows the PAT to the PMT of a program with ${name}`, () => {
      const { tables, events, push } = record();
      expect(tables.isTablePid(PMT_PID)).toBe(false);
      push(0, pat, 0);
      expect(tables.isTablePid(PMT_PID)).toBe(true);
      push(PMT_PID, pmt(streamType), 188);
      expect(events).toEqual(want);
      expect(tables.videoPid).toBe(want.length > 1 ? 0x100 : -1);
    });
  }

  test("TsProgramTables takes unchanged repeats to no new effect and reads a changed PAT", () => {
    const { events, push } = record();
    push(0, pat, 0);
    push(PMT_PID, pmt(0x02), 188);
    for (let i = 1; i <= 50; i++) push(0, pat.slice(), 376 * i);
    expect(events).toEqual(["pmt 4096", "video 256 mpeg2"]);
    const changed = payload(
      patSection([
        { programNumber: 1, pid: PMT_PID },
        { programNumber: 2, pid: 0x1001 },
      ]),
    );
    push(0, changed, 20_000);
    expect(events).toEqual(["pmt 4096", "video 256 mpeg2", "pmt 4097"]);
  });

  test("TsProgramTables reports a damaged section every time it repeats", () => {
    const { events, push } = record();
    const bad = pat.slice();
    bad[10] = (bad[10] as number) ^ 0xff; // inside the section: the CRC_32 no longer matches
    push(0, bad, 0);
    push(0, bad, 188);
    expect(events).toEqual(["error 1 ERR_PSI_CRC", "error 189 ERR_PSI_CRC"]);
  });

  test("TsProgramTables reads a repeat that follows a section left open, and reports the open one", () => {
    const { events, push } = record();
    push(0, pat, 0);
    // A section longer than its packet: the next packet must continue it.
    const long = payload(patSection([{ programNumber: 1, pid: PMT_PID }])).slice();
    long[3] = 0xf0; // section_length 240: runs past the payload
    push(0, long, 188);
    push(0, pat, 376);
    expect(events.filter((e) => e.startsWith("error"))).toEqual(["error 189 ERR_PSI_TRUNCATED"]);
  });
});

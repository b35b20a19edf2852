/** @module `pvrlink inspect FILE [--json]`: what a recording holds, as a table or as one stable JSON object. */

import { type Command, InputError, UsageError } from "../cli/command.ts";
import { parseFlags } from "../cli/parse-flags.ts";
import type { RecordingIndex } from "../codec/recording-index.ts";
import { indexFile, openInputSync } from "../firmware/files/recording-file.ts";

const HELP = `Usage: pvrlink inspect FILE [--json]

Indexes an MPEG recording (ES, PS, TS, M2TS or MP4, detected by content) and prints what it holds:
container, format, picture size, picture and GOP counts, the bytes that would travel protected, and any
damage found (with offsets). Damaged recordings are still indexed; their errors are listed.

Options:
  --json      print exactly one JSON object instead of the table (format: pvrlink help split-format, "inspect --json")
  -h, --help  show this help

Exit codes: 0 indexed (even with stream errors), 1 unreadable or not media (ERR_NOT_MEDIA), 2 bad usage.`;

/** The first errors the table shows; --json lists them all. */
const TABLE_ERRORS = 10;

/**
 * The `inspect --json` object. Keys are written in this order and only these: scripts read it, so it changes
 * only with a documented version bump.
 */
export function inspectJson(index: RecordingIndex): string {
  const c = index.counts;
  return JSON.stringify({
    container: index.container,
    format: index.format,
    width: index.width,
    height: index.height,
    counts: { seq: c.seq, gop: c.gop, pic: c.pic, I: c.I, P: c.P, B: c.B, D: c.D },
    gops: index.gops.map((g) => ({ offset: g.offset, closed: g.closed, brokenLink: g.brokenLink })),
    pictures: index.pictures.map((p) => ({
      serial: p.serial,
      type: p.type,
      structure: p.structure,
      offset: p.offset,
      length: p.length,
    })),
    errors: index.errors.map((e) => ({ offset: e.offset, code: e.code, message: e.message })),
  });
}

/** The human summary. */
export function inspectTable(path: string, fileLength: number, index: RecordingIndex): string {
  const c = index.counts;
  let protectedBytes = 0;
  for (const r of index.protectedRanges) protectedBytes += r.length;
  const share = fileLength > 0 ? ((100 * protectedBytes) / fileLength).toFixed(1) : "0.0";
  // Plain loops: run once per process, before any JIT tier, a filter's callback per picture cost ~1 ms here.
  let closed = 0;
  let broken = 0;
  for (const g of index.gops) {
    if (g.closed) closed++;
    if (g.brokenLink) broken++;
  }
  let fields = 0;
  for (const p of index.pictures) if (p.structure !== "frame") fields++;
  const rows: [string, string][] = [
    ["File", path],
    ["Size", `${fileLength} bytes`],
    ["Container", index.container],
    ["Format", `${index.format} ${index.width}x${index.height}`],
    ["Sequences", String(c.seq)],
    ["GOPs", `${c.gop} (closed ${closed}, broken link ${broken})`],
    ["Pictures", `${c.pic} (I ${c.I}, P ${c.P}, B ${c.B}, D ${c.D}; field pictures ${fields})`],
    ["Protected", `${protectedBytes} bytes in ${index.protectedRanges.length} ranges (${share}%)`],
    ["Errors", String(index.errors.length)],
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(10)}  ${v}`);
  for (const e of index.errors.slice(0, TABLE_ERRORS)) lines.push(`  @${e.offset} ${e.code}: ${e.message}`);
  if (index.errors.length > TABLE_ERRORS)
    lines.push(`  ... ${index.errors.length - TABLE_ERRORS} more (see --json)`);
  return lines.join("\n");
}

export const command: Command = {
  summary: "index a recording and print its pictures, GOPs and errors",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    if (positionals.length !== 1)
      throw new UsageError(`Cannot inspect: expected one FILE, got ${positionals.length} arguments`);
    const path = positionals[0]!;
    using handle = openInputSync(path);
    // A one-shot command: nothing else runs on the event loop, so blocking reads cost least (recording-file.ts).
    const { index, length } = await indexFile(handle, { hash: false, blocking: true });
    // Like ffprobe, a file with nothing of MPEG video in it is an error, not an empty recording: no container
    // was recognised (the codec fell back to ES) and no sequence header or picture was found anywhere.
    if (index.container === "es" && index.counts.seq === 0 && index.counts.pic === 0)
      throw new InputError(
        `Cannot inspect ${path}: not an MPEG recording (no container, no video sequence header)`,
        "ERR_NOT_MEDIA",
      );
    // Bun.write rather than process.stdout: the first touch of process.stdout builds Node's stream machinery,
    // 8 ms of a 50 ms inspect (docs/benchmarks.md, Parse).
    await Bun.write(Bun.stdout, `${values.json ? inspectJson(index) : inspectTable(path, length, index)}\n`);
    return 0;
  },
};

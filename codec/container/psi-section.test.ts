import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { patSection, pmtSection, psiSection } from "../../test/support/synthetic-container-streams.ts";
import { parsePat, parsePmt, parsePsiSection } from "./psi-section.ts";

describe("parsePsiSection() / parsePat() / parsePmt()", () => {
  test("parsePat() lists programs, network PID included", () => {
    const s = parsePsiSection(
      patSection([
        { programNumber: 0, pid: 0x10 },
        { programNumber: 1, pid: 0x1000 },
      ]),
      0,
    );
    expect(s).toMatchObject({ tableId: 0, currentNext: true, sectionNumber: 0 });
    expect(parsePat(s)).toEqual([
      { programNumber: 0, pid: 0x10 },
      { programNumber: 1, pid: 0x1000 },
    ]);
  });
  test("parsePmt() lists streams after program and ES descriptors", () => {
    const bytes = pmtSection(
      1,
      0x100,
      [
        { streamType: 0x02, pid: 0x100, infoLength: 6 },
        { streamType: 0x03, pid: 0x101 },
      ],
      4,
    );
    expect(parsePmt(parsePsiSection(bytes, 0))).toEqual({
      programNumber: 1,
      pcrPid: 0x100,
      streams: [
        { streamType: 0x02, pid: 0x100 },
        { streamType: 0x03, pid: 0x101 },
      ],
    });
  });
  test("parsePsiSection() reads a section at an offset", () => {
    const bytes = new Uint8Array([0xff, 0xff, ...patSection([{ programNumber: 1, pid: 0x20 }])]);
    expect(parsePsiSection(bytes, 2).offset).toBe(2);
  });

  const pat = patSection([{ programNumber: 1, pid: 0x1000 }]);
  const change = (b: Uint8Array, at: number, v: number) => {
    const c = b.slice();
    c[at] = v;
    return c;
  };
  const invalid: [string, () => unknown, string][] = [
    [
      "parsePsiSection() rejects fewer than 3 bytes",
      () => parsePsiSection(pat.subarray(0, 2), 0),
      "ERR_PSI_TRUNCATED",
    ],
    [
      "parsePsiSection() rejects a section cut short",
      () => parsePsiSection(pat.subarray(0, pat.length - 1), 0),
      "ERR_PSI_TRUNCATED",
    ],
    [
      "parsePsiSection() rejects a corrupt CRC_32",
      () => parsePsiSection(change(pat, pat.length - 1, pat[pat.length - 1]! ^ 1), 0),
      "ERR_PSI_CRC",
    ],
    [
      "parsePsiSection() rejects a flipped body bit",
      () => parsePsiSection(change(pat, 9, pat[9]! ^ 4), 0),
      "ERR_PSI_CRC",
    ],
    [
      "parsePsiSection() rejects section_syntax_indicator 0",
      () => parsePsiSection(change(pat, 1, pat[1]! & 0x7f), 0),
      "ERR_PSI_SYNTAX",
    ],
    [
      "parsePsiSection() rejects section_length above 1021 for a PAT",
      () => parsePsiSection(change(pat, 1, 0xb4), 0),
      "ERR_PSI_SECTION_LENGTH",
    ],
    [
      "parsePsiSection() rejects section_length below 9",
      () => parsePsiSection(new Uint8Array([0, 0xb0, 4, 0, 0, 0, 0]), 0),
      "ERR_PSI_SECTION_LENGTH",
    ],
    [
      "parsePat() rejects a PMT",
      () => parsePat(parsePsiSection(pmtSection(1, 0x100, []), 0)),
      "ERR_PSI_SYNTAX",
    ],
    [
      "parsePat() rejects a partial entry",
      () => parsePat(parsePsiSection(psiSection(0, 1, [0, 1, 0xe1]), 0)),
      "ERR_PSI_SECTION_LENGTH",
    ],
    ["parsePmt() rejects a PAT", () => parsePmt(parsePsiSection(pat, 0)), "ERR_PSI_SYNTAX"],
    [
      "parsePmt() rejects program_info_length past the section",
      () => parsePmt(parsePsiSection(psiSection(2, 1, [0xe1, 0, 0xf0, 40]), 0)),
      "ERR_PSI_SECTION_LENGTH",
    ],
    [
      "parsePmt() rejects ES_info_length past the section",
      () => parsePmt(parsePsiSection(psiSection(2, 1, [0xe1, 0, 0xf0, 0, 2, 0xe1, 0, 0xf0, 9]), 0)),
      "ERR_PSI_SECTION_LENGTH",
    ],
  ];
  for (const [name, run, code] of invalid) test(name, () => expectCodecError(run, code));
});

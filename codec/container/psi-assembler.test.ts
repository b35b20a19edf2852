import { describe, expect, test } from "bun:test";
import { concat, patSection, pmtSection } from "../../test/support/synthetic-container-streams.ts";
import { PsiAssembler } from "./psi-assembler.ts";

function collect() {
  const sections: Uint8Array[] = [];
  const errors: string[] = [];
  const a = new PsiAssembler(
    (s) => sections.push(s),
    (_o, code) => errors.push(code),
  );
  return { a, sections, errors };
}

describe("PsiAssembler", () => {
  test("PsiAssembler joins a section spread over three packets", () => {
    const pmt = pmtSection(
      1,
      0x100,
      Array.from({ length: 80 }, (_, i) => ({ streamType: 0x06, pid: 0x200 + i })),
    );
    expect(pmt.length).toBeGreaterThan(2 * 184);
    const { a, sections, errors } = collect();
    const body = concat(new Uint8Array([0]), pmt);
    a.push(body.subarray(0, 184), true, 0);
    a.push(body.subarray(184, 368), false, 188);
    a.push(concat(body.subarray(368), new Uint8Array(20).fill(0xff)), false, 376);
    expect(errors).toEqual([]);
    expect(sections).toEqual([pmt]);
  });
  test("PsiAssembler honours pointer_field and back-to-back sections", () => {
    const pat1 = patSection([{ programNumber: 1, pid: 0x100 }]);
    const pat2 = patSection([{ programNumber: 2, pid: 0x200 }]);
    const { a, sections } = collect();
    // A section starting at the end of one packet, finished by the pointer_field bytes of the next.
    a.push(concat(new Uint8Array([0]), pat1, pat2.subarray(0, 5)), true, 0);
    a.push(
      concat(new Uint8Array([pat2.length - 5]), pat2.subarray(5), pat1, new Uint8Array([0xff, 0xff])),
      true,
      188,
    );
    expect(sections).toEqual([pat1, pat2, pat1]);
  });
  test("PsiAssembler reports a pointer_field past the packet and a section cut by the next start", () => {
    const pat = patSection([{ programNumber: 1, pid: 0x100 }]);
    const { a, sections, errors } = collect();
    a.push(new Uint8Array([200, 1, 2]), true, 0);
    a.push(concat(new Uint8Array([0]), pat.subarray(0, 6)), true, 188);
    a.push(concat(new Uint8Array([0]), pat), true, 376);
    expect(errors).toEqual(["ERR_PSI_POINTER", "ERR_PSI_TRUNCATED"]);
    expect(sections).toEqual([pat]);
  });
  test("PsiAssembler ignores continuation bytes without a start and drops on reset()", () => {
    const pat = patSection([{ programNumber: 1, pid: 0x100 }]);
    const { a, sections } = collect();
    a.push(pat, false, 0);
    a.push(concat(new Uint8Array([0]), pat.subarray(0, 4)), true, 188);
    a.reset();
    a.push(pat.subarray(4), false, 376);
    expect(sections).toEqual([]);
  });
});

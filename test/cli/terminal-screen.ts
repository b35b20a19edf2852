/** @module For tests: what a terminal of a given width shows after some output, and how often it wrapped a line. */

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every terminal control sequence
const CSI = /^\u001b\[([0-9;?]*)([@-~])/;

/** The screen's lines after `output`: \r, \n, ESC[K and autowrap at `columns`, as a VT100-style terminal does. */
export function screenOf(output: string, columns: number): { lines: string[]; wraps: number } {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let wraps = 0;
  for (let i = 0; i < output.length; i++) {
    const ch = output[i] as string;
    if (ch === "\r") col = 0;
    else if (ch === "\n") {
      row++;
      lines[row] ??= [];
    } else if (ch === "\x1b") {
      // CSI: ESC [ parameters, then one final byte in @..~ (ECMA-48 5.4); only EL (K) matters here.
      const m = CSI.exec(output.slice(i));
      if (!m) continue;
      if (m[2] === "K" && (m[1] === "" || m[1] === "0")) (lines[row] as string[]).length = col;
      i += m[0].length - 1;
    } else if (ch >= " ") {
      if (col === columns) {
        wraps++;
        row++;
        lines[row] ??= [];
        col = 0;
      }
      const line = lines[row] as string[];
      while (line.length < col) line.push(" ");
      line[col++] = ch;
    }
  }
  return { lines: lines.map((l) => l.join("").trimEnd()), wraps };
}

/** @module errorLine(): any thrown value as one line with a stable code and, where known, the next step. */
import { describe, expect, test } from "bun:test";
import { InputError, UsageError } from "./command.ts";
import { errorLine, formatErrorLine } from "./error-line.ts";

const sys = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe("errorLine()", () => {
  const cases: [string, unknown, string, number, RegExp][] = [
    [
      "names the URL a refused fetch was for",
      sys("ECONNREFUSED: Unable to connect.", { code: "ECONNREFUSED", path: "http://n:1/v1/query" }),
      "ECONNREFUSED",
      1,
      /^Cannot connect to http:\/\/n:1\/v1\/query: connection refused \(ECONNREFUSED\); is the control node running\?/,
    ],
    [
      "names the address a listen found in use",
      sys("listen EADDRINUSE", { code: "EADDRINUSE", address: "127.0.0.1", port: 8471 }),
      "EADDRINUSE",
      1,
      /^Cannot listen on 127\.0\.0\.1:8471: the address is in use \(EADDRINUSE\); .*--listen/,
    ],
    [
      "reads the port from Bun.serve's message",
      sys("Failed to start server. Is port 8650 in use?", { code: "EADDRINUSE" }),
      "EADDRINUSE",
      1,
      /^Cannot listen on port 8650:/,
    ],
    [
      "keeps an InputError's message and code",
      new InputError("Cannot send x: no such file", "ERR_SEND_NO_FILE"),
      "ERR_SEND_NO_FILE",
      1,
      /^Cannot send x: no such file \(ERR_SEND_NO_FILE\)$/,
    ],
    [
      "adds the next step for a missing credential",
      new InputError("Cannot load credential: gone", "ERR_CREDENTIAL_MISSING"),
      "ERR_CREDENTIAL_MISSING",
      1,
      /; enroll first/,
    ],
    [
      "makes an interrupted send exit 130 and says to send again",
      new InputError("Cannot finish sending x: interrupted", "ERR_INTERRUPTED"),
      "ERR_INTERRUPTED",
      130,
      /\(ERR_INTERRUPTED\); send it again/,
    ],
    ["makes a usage error exit 2", new UsageError("bad flag"), "ERR_USAGE", 2, /^bad flag \(ERR_USAGE\)$/],
    [
      "calls an unexpected error internal and says how to get the stack",
      new RangeError("boom\nsecond line"),
      "ERR_INTERNAL",
      1,
      /^internal error: boom second line \(ERR_INTERNAL\); rerun with PVRLINK_DEBUG=1/,
    ],
    ["handles a thrown non-error", "just a string", "ERR_INTERNAL", 1, /^internal error: just a string/],
  ];
  for (const [name, err, code, exit, text] of cases) {
    test(`errorLine() ${name}`, () => {
      const e = errorLine(err);
      expect(e.code).toBe(code);
      expect(e.exit).toBe(exit);
      expect(formatErrorLine(e)).toMatch(text);
      expect(formatErrorLine(e)).not.toContain("\n");
    });
  }
});

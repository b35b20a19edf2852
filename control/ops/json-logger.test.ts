import { describe, expect, test } from "bun:test";
import { JsonLogger } from "./json-logger.ts";

function capture(o: { level?: "debug" | "info" | "warn" | "error" } = {}) {
  const lines: string[] = [];
  const logger = new JsonLogger({
    ...o,
    write: (l) => lines.push(l),
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    deviceName: (id) => (id === "dev_AAAAAAAAAAAA" ? "alice" : null),
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records };
}

describe("JsonLogger", () => {
  test("writes one JSON object per line with time, level and message", () => {
    const { logger, lines, records } = capture();
    logger.info("hello", { n: 1 });
    expect(lines[0]?.endsWith("\n")).toBe(true);
    expect(records()).toEqual([{ time: "2026-01-02T03:04:05.000Z", level: "info", msg: "hello", n: 1 }]);
  });

  const levels: Array<[string, string]> = [
    ["admin: enrolled dev_AAAAAAAAAAAA", "info"],
    ["udp: dropped datagram from 1.2.3.4:5: short", "warn"],
    ["data trigger to dev_AAAAAAAAAAAA failed: x", "warn"],
    ["internal error on GET /x: boom", "error"],
    ["housekeeping failed: disk", "error"],
    ["query: live session ses_x dev_AAAAAAAAAAAA -> dev_BBBBBBBBBBBB", "debug"],
    ["query: store session ses_x dev_AAAAAAAAAAAA -> dev_BBBBBBBBBBBB (callee_busy)", "debug"],
    ["contact trigger for ses_x failed: boom", "warn"],
  ];
  for (const [msg, level] of levels) {
    test(`line() logs '${msg}' at ${level}`, () => {
      const { logger, records } = capture({ level: "debug" });
      logger.line(msg);
      expect(records()[0]?.level).toBe(level);
    });
  }

  test("line() at the default level drops the per-session query lines and keeps the rest", () => {
    const { logger, records } = capture();
    logger.line("query: live session ses_x dev_AAAAAAAAAAAA -> dev_BBBBBBBBBBBB");
    logger.line("admin: enrolled dev_AAAAAAAAAAAA");
    expect(records().map((r) => r.level)).toEqual(["info"]);
  });

  test("names devices beside their ids, and keeps unknown ids", () => {
    const { logger, records } = capture({ level: "debug" });
    logger.line("admin: enrolled dev_AAAAAAAAAAAA");
    logger.line("query: live session ses_x dev_AAAAAAAAAAAA -> dev_BBBBBBBBBBBB");
    expect(records()[0]).toMatchObject({ component: "admin", device: "alice", deviceId: "dev_AAAAAAAAAAAA" });
    expect(records()[1]).toMatchObject({
      device: ["alice", "dev_BBBBBBBBBBBB"],
      deviceId: ["dev_AAAAAAAAAAAA", "dev_BBBBBBBBBBBB"],
    });
  });

  test("masks admin and enrollment tokens", () => {
    const { logger, lines } = capture();
    logger.warn("got adm_abcdefghijklmnop and enr_ABCDEFGHIJKL");
    expect(lines[0]).not.toContain("abcdefghijklmnop");
    expect(lines[0]).not.toContain("ABCDEFGHIJKL");
    expect(lines[0]).toContain("adm_[redacted]");
  });

  test("drops lines below its level", () => {
    const { logger, records } = capture({ level: "warn" });
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    expect(records().map((r) => r.msg)).toEqual(["c", "d"]);
  });

  test("a throwing name lookup (database closed) still logs the id", () => {
    const lines: string[] = [];
    const logger = new JsonLogger({
      write: (l) => lines.push(l),
      deviceName: () => {
        throw new RangeError("closed");
      },
    });
    logger.line("session of dev_CCCCCCCCCCCC expired");
    expect(JSON.parse(lines[0]!).device).toBe("dev_CCCCCCCCCCCC");
  });
});

/** @module Structured JSON log lines (one object per line) with levels, device names beside device ids, and secrets masked. */

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(v: string): v is LogLevel {
  return v in RANK;
}

/** Extra fields of one line; values must be JSON-serialisable. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. */
  level?: LogLevel;
  /** Receives each finished line including its newline (default: stderr). */
  write?: (line: string) => void;
  /** Resolves a device id to its current name, so lines name devices as operators know them. */
  deviceName?: (id: string) => string | null;
  now?: () => number;
}

const DEVICE_ID = /\bdev_[A-Za-z0-9_-]{6,}/g;
/** Admin tokens and enrollment tokens have fixed prefixes; a line that somehow carries one never shows it. */
const SECRET_SHAPES = /\b(adm|enr)_[A-Za-z0-9_-]{8,}/g;
const COMPONENT = /^([a-z]+): /;
/** The node's older free-text messages carry their severity in words; this maps them to levels. */
const ERROR_WORDS = /\binternal error\b|\bhousekeeping failed\b|\bsocket error\b/;
/**
 * One line per granted session ("query: live session ..."), at QUERY rate: debug, so a busy node does not spend a
 * JSON line per request by default (the sessions table and the accounting log keep the record).
 */
const PER_REQUEST = /^query: (live|store) session /;
const WARN_WORDS = /\bfailed\b|\bdropped\b|\bignored\b|\bnot registered\b|\bsuppressed\b|\bended early\b/;

export class JsonLogger {
  readonly #level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #deviceName: (id: string) => string | null;
  readonly #now: () => number;

  constructor(o: JsonLoggerOptions = {}) {
    this.#level = o.level ?? "info";
    this.#write = o.write ?? ((line) => process.stderr.write(line));
    this.#deviceName = o.deviceName ?? (() => null);
    this.#now = o.now ?? Date.now;
  }

  /** A logger whose lines resolve device names through `deviceName` (set once the device store exists). */
  withDeviceNames(deviceName: (id: string) => string | null): JsonLogger {
    return new JsonLogger({
      level: this.#level,
      write: this.#write,
      deviceName,
      now: this.#now,
    });
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (RANK[level] < RANK[this.#level]) return;
    const clean = msg.replace(SECRET_SHAPES, "$1_[redacted]");
    const record: Record<string, unknown> = { time: new Date(this.#now()).toISOString(), level, msg: clean };
    const comp = COMPONENT.exec(clean);
    if (comp) record.component = comp[1];
    const ids = [...new Set(clean.match(DEVICE_ID) ?? [])];
    if (ids.length > 0) {
      const names = ids.map((id) => {
        try {
          return this.#deviceName(id) ?? id;
        } catch {
          return id; // the database may be closing; the id still identifies the device
        }
      });
      record.device = names.length === 1 ? names[0] : names;
      record.deviceId = ids.length === 1 ? ids[0] : ids;
    }
    Object.assign(record, fields);
    this.#write(`${JSON.stringify(record)}\n`);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  /** The `(msg) => void` shape the stores and routes take: the level is read from the message's words. */
  line = (msg: string): void => {
    const level: LogLevel = PER_REQUEST.test(msg)
      ? "debug"
      : ERROR_WORDS.test(msg)
        ? "error"
        : WARN_WORDS.test(msg)
          ? "warn"
          : "info";
    this.log(level, msg);
  };
}

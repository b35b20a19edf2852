/** @module A small Prometheus registry: counters, gauges read at scrape time, histograms, rendered in text format 0.0.4. */

/** Label values by label name; rendered in the order given. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value as the text format requires: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes only backslash and newline. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** The two header lines every family starts with. */
function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Go's and Prometheus's float spelling: +Inf, -Inf, NaN. */
function num(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels));
const NO_LABELS_KEY = keyOf({});

interface Metric {
  readonly name: string;
  render(): string[];
}

function checkNames(name: string, labels: Labels = {}): void {
  if (!METRIC_NAME.test(name)) throw new SyntaxError(`Cannot register metric '${name}': invalid name`);
  for (const k of Object.keys(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith("__"))
      throw new SyntaxError(`Cannot use label '${k}' on ${name}: invalid name`);
  }
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`Cannot add ${by} to counter ${this.name}: counters only go up`);
    // Names are checked when a label set is first counted (a bad one never is, so it always throws): the
    // unlabelled counts bumped per keepalive and per request are then one Map read and an add.
    const k = labels === undefined ? NO_LABELS_KEY : keyOf(labels);
    const cur = this.#values.get(k);
    if (cur) cur.value += by;
    else {
      checkNames(this.name, labels);
      this.#values.set(k, { labels: labels ?? {}, value: by });
    }
  }

  value(labels: Labels = {}): number {
    return this.#values.get(keyOf(labels))?.value ?? 0;
  }

  render(): string[] {
    const out = header(this.name, this.help, "counter");
    if (this.#values.size === 0) out.push(`${this.name} 0`);
    for (const { labels, value } of this.#values.values())
      out.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return out;
  }
}

/** A value read when scraped, so it never drifts from the source of truth (the database, the spool). */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => ReadonlyArray<{ labels?: Labels; value: number }>,
  ) {}

  render(): string[] {
    const out = header(this.name, this.help, "gauge");
    for (const s of this.read()) out.push(`${this.name}${labelText(s.labels ?? {})} ${num(s.value)}`);
    return out;
  }
}

/** Cumulative buckets with upper bounds `le`, plus _sum and _count, per label set. */
export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    if (buckets.length === 0 || buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!))
      throw new RangeError(`Cannot create histogram ${name}: buckets must be non-empty and increasing`);
    this.buckets = buckets;
  }

  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels);
    let s = this.#series.get(k);
    if (!s) {
      // As Counter.inc(): names are checked when a label set is first seen (a bad one never is, so it always throws).
      checkNames(this.name, labels);
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const out = header(this.name, this.help, "histogram");
    for (const s of this.#series.values()) {
      this.buckets.forEach((b, i) => {
        out.push(`${this.name}_bucket${labelText(s.labels, ["le", num(b)])} ${s.counts[i]}`);
      });
      out.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** Holds metrics by name and renders them all; a name registers once. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  register<M extends Metric>(m: M): M {
    checkNames(m.name);
    if (this.#metrics.has(m.name))
      throw new RangeError(`Cannot register metric '${m.name}': already registered`);
    this.#metrics.set(m.name, m);
    return m;
  }

  /** The exposition text, `text/plain; version=0.0.4`. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.#metrics.values()) lines.push(...m.render());
    return `${lines.join("\n")}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

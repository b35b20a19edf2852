import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { Counter, escapeLabelValue, Gauge, Histogram, MetricsRegistry } from "./metrics-registry.ts";

describe("MetricsRegistry", () => {
  test("render() output parses with a Prometheus text-format parser, values intact", () => {
    const r = new MetricsRegistry();
    const c = r.register(new Counter("x_total", "A counter with a \\ backslash\nand newline."));
    c.inc({ code: 'odd "quoted"\nvalue\\' }, 2);
    c.inc({ code: "ok" });
    c.inc({ code: "ok" }, 3);
    r.register(new Gauge("g", "A gauge.", () => [{ labels: { state: "up" }, value: 7 }, { value: 1.5 }]));
    const h = r.register(new Histogram("h_seconds", "A histogram.", [0.1, 1]));
    // Unlabelled: this parser folds every histogram series of a family into one, so one series is what it reads.
    for (const v of [0.05, 0.5, 5]) h.observe(v);
    const families = parsePrometheusTextFormat(r.render());
    const byName = Object.fromEntries(families.map((f) => [f.name, f]));
    expect(byName.x_total?.type).toBe("COUNTER");
    expect(byName.x_total?.help).toBe("A counter with a \\ backslash\nand newline.");
    expect(byName.x_total?.metrics).toEqual([
      { value: "2", labels: { code: 'odd "quoted"\nvalue\\' } },
      { value: "4", labels: { code: "ok" } },
    ]);
    expect(byName.g?.metrics).toEqual([{ value: "7", labels: { state: "up" } }, { value: "1.5" }]);
    expect(byName.h_seconds?.type).toBe("HISTOGRAM");
    expect(byName.h_seconds?.metrics[0]).toEqual({
      buckets: { "0.1": "1", "1": "2", "+Inf": "3" },
      count: "3",
      sum: "5.55",
    });
  });

  test("a labelled histogram renders cumulative buckets with le last among its labels", () => {
    const h = new Histogram("h", "x", [1, 2]);
    h.observe(1.5, { kind: "end" });
    expect(h.render().slice(2)).toEqual([
      'h_bucket{kind="end",le="1"} 0',
      'h_bucket{kind="end",le="2"} 1',
      'h_bucket{kind="end",le="+Inf"} 1',
      'h_sum{kind="end"} 1.5',
      'h_count{kind="end"} 1',
    ]);
  });

  test("an unused counter still renders a zero sample", () => {
    const r = new MetricsRegistry();
    r.register(new Counter("never_total", "Never counted."));
    expect(parsePrometheusTextFormat(r.render())[0]?.metrics).toEqual([{ value: "0" }]);
  });

  const bad: Array<[string, () => unknown, ErrorConstructor]> = [
    ["a metric name with a dash", () => new MetricsRegistry().register(new Counter("a-b", "x")), SyntaxError],
    ["a label name starting with __", () => new Counter("a", "x").inc({ __x: "1" }), SyntaxError],
    [
      "a bad label name on a counter already counting, every time it is tried",
      () => {
        const c = new Counter("a", "x");
        c.inc();
        c.inc({ ok: "1" });
        expect(() => c.inc({ "b-c": "1" })).toThrow(SyntaxError);
        c.inc({ "b-c": "1" });
      },
      SyntaxError,
    ],
    [
      "a bad label name on a histogram already observing, every time it is tried",
      () => {
        const h = new Histogram("h", "x", [1]);
        h.observe(0.5, { ok: "1" });
        expect(() => h.observe(0.5, { "b-c": "1" })).toThrow(SyntaxError);
        h.observe(0.5, { "b-c": "1" });
      },
      SyntaxError,
    ],
    ["a negative counter increment", () => new Counter("a", "x").inc({}, -1), RangeError],
    ["a NaN counter increment", () => new Counter("a", "x").inc({}, Number.NaN), RangeError],
    ["unsorted histogram buckets", () => new Histogram("h", "x", [1, 0.5]), RangeError],
    ["empty histogram buckets", () => new Histogram("h", "x", []), RangeError],
    [
      "a name registered twice",
      () => {
        const r = new MetricsRegistry();
        r.register(new Counter("a", "x"));
        r.register(new Counter("a", "y"));
      },
      RangeError,
    ],
  ];
  for (const [what, f, type] of bad) {
    test(`rejects ${what}`, () => {
      expect(f).toThrow(type);
    });
  }

  test("escapeLabelValue() escapes backslash, quote and newline", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});

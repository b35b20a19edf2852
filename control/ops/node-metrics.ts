/** @module The control node's metrics: what they count, their names and buckets, and the scrape-time reads. */
import { Counter, Gauge, Histogram, MetricsRegistry } from "./metrics-registry.ts";

/** What the gauges read at scrape time; plugged in once the stores exist. */
export interface MetricsSources {
  devicesByState(): { connected: number; disconnected: number; disabled: number };
  activeSessions(): number;
  spool(): { files: number; bytes: number };
}

/** Seconds; triggers retry from 150 ms up to the deadline (3 s default), HTTP answers in ms to seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class NodeMetrics {
  readonly registry = new MetricsRegistry();
  sources: MetricsSources | null = null;
  /** Loads what the sources read (a store read), before each scrape; null when they read memory only. */
  refresh: (() => Promise<void>) | null = null;

  #counter(name: string, help: string): Counter {
    return this.registry.register(new Counter(name, help));
  }

  readonly keepalives = this.#counter(
    "pvrlink_keepalives_total",
    "Authenticated keepalives received (rate() gives keepalives/s).",
  );
  readonly triggersSent = this.#counter(
    "pvrlink_triggers_sent_total",
    "Triggers sent, first attempts, by kind.",
  );
  readonly triggersRetried = this.#counter(
    "pvrlink_triggers_retried_total",
    "Trigger datagrams resent while waiting for an ACK.",
  );
  readonly triggersFailed = this.#counter(
    "pvrlink_triggers_failed_total",
    "Triggers that got no ACK before their deadline, by kind.",
  );
  readonly queries = this.#counter(
    "pvrlink_queries_total",
    "POST /v1/query answers by HTTP status and error code.",
  );
  readonly sessionsStarted = this.#counter("pvrlink_sessions_started_total", "Sessions issued by queries.");
  readonly relayBytes = this.#counter(
    "pvrlink_relay_bytes_total",
    "Bytes the node received into relay and store-and-forward transfers.",
  );
  readonly httpLatency = this.registry.register(
    new Histogram(
      "pvrlink_http_request_duration_seconds",
      "HTTP request latency by route group and status class.",
      LATENCY_BUCKETS,
    ),
  );
  readonly triggerLatency = this.registry.register(
    new Histogram(
      "pvrlink_trigger_ack_seconds",
      "Time from first trigger send to its ACK, by kind.",
      LATENCY_BUCKETS,
    ),
  );

  constructor() {
    const src = () => this.sources;
    this.registry.register(
      new Gauge("pvrlink_devices", "Enrolled devices by state.", () => {
        const s = src()?.devicesByState();
        if (!s) return [];
        return Object.entries(s).map(([state, value]) => ({ labels: { state }, value }));
      }),
    );
    // One unlabelled value each, read from the sources at scrape time (none before the stores exist).
    const single = (name: string, help: string, read: (s: MetricsSources) => number) =>
      this.registry.register(
        new Gauge(name, help, () => {
          const s = src();
          return s ? [{ value: read(s) }] : [];
        }),
      );
    single("pvrlink_sessions_active", "Sessions currently active.", (s) => s.activeSessions());
    single("pvrlink_spool_bytes", "Bytes held in the spool directory.", (s) => s.spool().bytes);
    single("pvrlink_spool_files", "Files held in the spool directory.", (s) => s.spool().files);
  }
}

/** Route group for the latency histogram: a bounded label set (never ids or names from the path). */
export function routeGroup(path: string): string {
  if (path === "/v1/query") return "query";
  if (path.startsWith("/v1/transfers")) return "relay";
  // Its own group: the lookup a stranger's preambles used to cost a recorder (issue 21 item 6) stays visible.
  if (path === "/v1/sessions/pending") return "pending";
  if (path.startsWith("/v1/")) return "device";
  if (path.startsWith("/admin/")) return "admin";
  if (path.startsWith("/console")) return "console";
  return "other";
}

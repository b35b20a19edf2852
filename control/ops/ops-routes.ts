/** @module Operations endpoints: /healthz (the process answers), /readyz (database and sockets usable), /metrics (Prometheus text). */
import { Hono, type MiddlewareHandler } from "hono";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics-registry.ts";
import { type NodeMetrics, routeGroup } from "./node-metrics.ts";

export interface OpsDeps {
  metrics: NodeMetrics;
  /** Throws or returns a reason when the node cannot serve (database unusable, UDP not bound). */
  notReadyReason: () => Promise<string | null> | string | null;
}

/** Times every request and counts /v1/query answers by status and error code. */
export function metricsMiddleware(metrics: NodeMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const group = routeGroup(c.req.path);
    metrics.httpLatency.observe((performance.now() - started) / 1000, {
      route: group,
      status: `${Math.floor(status / 100)}xx`,
    });
    if (group === "query" && c.req.method === "POST") {
      let code = status === 200 ? "live" : status === 202 ? "store" : "error";
      if (status >= 400) {
        try {
          const body = (await c.res.clone().json()) as { error?: { code?: unknown } };
          if (typeof body.error?.code === "string") code = body.error.code;
        } catch {
          // a non-JSON error body keeps the generic code
        }
      }
      metrics.queries.inc({ status: String(status), code });
      if (status === 200 || status === 202) metrics.sessionsStarted.inc();
    }
  };
}

export function createOpsRoutes(d: OpsDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    let reason: string | null;
    try {
      reason = await d.notReadyReason();
    } catch (err) {
      reason = (err as Error).message;
    }
    return reason === null ? c.json({ status: "ready" }) : c.json({ status: "not_ready", reason }, 503);
  });
  app.get("/metrics", async (c) => {
    // The store answers asynchronously; the gauges then read what this scrape loaded.
    await d.metrics.refresh?.();
    c.header("content-type", PROMETHEUS_CONTENT_TYPE);
    c.header("cache-control", "no-store");
    return c.body(d.metrics.registry.render());
  });
  return app;
}

/** @module The operator's web console under /console: login by cookie, then pages that read and act through the node's own admin API. */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Child } from "hono/jsx";
import QRCode from "qrcode";
import type {
  AccountingEntry,
  AdminDevice,
  AdminSession,
  AllowListResponse,
  EnrollmentTokenResponse,
  GroupResponse,
} from "../../protocol/api-types.ts";
import type { RateLimiter } from "../http/rate-limiter.ts";
import type { AdminDeviceDetail, AdminSpoolItem } from "../ops/admin-ops-routes.ts";
import { adminTokenMatches } from "../routes/admin-routes.ts";
import { accountingCsv } from "./accounting-csv.ts";
import {
  AccountingPage,
  type AccountingQuery,
  ListsPage,
  reportedBytes,
  SessionsPage,
  SpoolPage,
} from "./activity-pages.tsx";
import { AdminRefusal, adminCaller, parseUtcInput } from "./admin-caller.ts";
import { CONSOLE_CSS, CONSOLE_JS } from "./console-assets.ts";
import { Layout, LoginPage, Notices } from "./console-layout.tsx";
import { CONSOLE_CSP, sameOrigin } from "./console-security.ts";
import { CONSOLE_COOKIE, ConsoleSessions } from "./console-sessions.ts";
import { DevicePage, DevicesPage, EnrollPage, enrollUri } from "./device-pages.tsx";

export interface ConsoleDeps {
  adminToken: string;
  /** Serves an admin API request (the node's own app): the console acts through the same routes as the CLI. */
  admin: (req: Request) => Response | Promise<Response>;
  nodeAddresses: () => { http: string; udp: string };
  /** Slows token guessing on the login form. */
  loginLimiter: RateLimiter;
  log: (msg: string) => void;
}

/** Recently ended sessions show the bytes their peers reported within this window. */
const REPORTED_WINDOW_MS = 7 * 24 * 3600 * 1000;

export function createConsoleRoutes(d: ConsoleDeps): Hono {
  const app = new Hono();
  const sessions = new ConsoleSessions();

  const call = adminCaller(d.admin, d.adminToken);

  const secure = (c: Context) => new URL(c.req.url).protocol === "https:";

  app.use("*", async (c, next) => {
    await next();
    c.header("content-security-policy", CONSOLE_CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "same-origin");
    if (!c.req.path.startsWith("/assets/")) c.header("cache-control", "no-store");
  });

  app.get("/assets/console.css", (c) =>
    c.body(CONSOLE_CSS, 200, { "content-type": "text/css; charset=utf-8" }),
  );
  app.get("/assets/console.js", (c) =>
    c.body(CONSOLE_JS, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );

  app.get("/login", (c) => c.html(<LoginPage />));
  app.post("/login", async (c) => {
    if (!d.loginLimiter.take("console-login"))
      return c.html(<LoginPage error="Too many attempts; wait a moment." />, 429);
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    if (!adminTokenMatches(d.adminToken, token)) {
      d.log("console: failed login");
      return c.html(<LoginPage error="That is not this node's admin token." />, 401);
    }
    setCookie(c, CONSOLE_COOKIE, sessions.create(), {
      httpOnly: true,
      sameSite: "Strict",
      secure: secure(c),
      path: "/console",
    });
    d.log("console: login");
    return c.redirect("/console/devices", 303);
  });

  // Everything below needs a live console session. POSTs must also come from this origin: SameSite=Strict
  // already keeps the cookie off cross-site requests; Sec-Fetch-Site or Origin is checked as well.
  const requireSession: MiddlewareHandler = async (c, next) => {
    if (!sessions.touch(getCookie(c, CONSOLE_COOKIE))) {
      if (c.req.header("x-console-fragment")) return c.text("login required", 401);
      return c.redirect("/console/login", 303);
    }
    if (c.req.method === "POST" && !sameOrigin(c)) return c.text("cross-origin form refused", 403);
    await next();
  };
  app.use("*", requireSession);

  app.post("/logout", (c) => {
    sessions.end(getCookie(c, CONSOLE_COOKIE));
    deleteCookie(c, CONSOLE_COOKIE, { path: "/console", secure: secure(c) });
    return c.redirect("/console/login", 303);
  });

  /** A full page, or only <main>'s content when the live script asks for a fragment. */
  const page = (c: Context, o: { title: string; live?: boolean }, body: Child) => {
    const notices = <Notices notice={c.req.query("notice")} error={c.req.query("error")} />;
    if (c.req.header("x-console-fragment"))
      return c.html(
        <>
          {notices}
          {body}
        </>,
      );
    return c.html(
      <Layout title={o.title} path={c.req.path} live={o.live ?? false}>
        {notices}
        {body}
      </Layout>,
    );
  };

  /** Runs an action and redirects back with its outcome (POST-redirect-GET, so reload repeats nothing). */
  const act = (back: (c: Context) => string, f: (c: Context) => Promise<string>) => async (c: Context) => {
    const to = back(c);
    try {
      const notice = await f(c);
      return c.redirect(`${to}?notice=${encodeURIComponent(notice)}`, 303);
    } catch (err) {
      if (!(err instanceof AdminRefusal)) throw err;
      return c.redirect(`${to}?error=${encodeURIComponent(err.message)}`, 303);
    }
  };

  app.get("/", (c) => c.redirect("/console/devices", 303));

  app.get("/devices", async (c) => {
    const devices = await call<AdminDevice[]>("GET", "/devices");
    return page(
      c,
      { title: "Devices", live: true },
      <DevicesPage devices={devices} q={c.req.query("q") ?? ""} now={Date.now()} />,
    );
  });

  app.post("/devices/enroll", async (c) => {
    const t = await call<EnrollmentTokenResponse>("POST", "/enrollment-tokens", {});
    const addr = d.nodeAddresses();
    const nodeUrl = /^https?:\/\//.test(addr.http)
      ? addr.http
      : `${new URL(c.req.url).protocol}//${addr.http}`;
    const qrSvg = await QRCode.toString(enrollUri(nodeUrl, addr.udp, t.token), {
      type: "svg",
      margin: 1,
      errorCorrectionLevel: "M",
    });
    d.log("console: created an enrollment token");
    return page(
      c,
      { title: "Enroll a device" },
      <EnrollPage
        token={t.token}
        expiresAt={t.expiresAt}
        nodeUrl={nodeUrl}
        udp={addr.udp}
        qrSvg={qrSvg}
        now={Date.now()}
      />,
    );
  });

  app.get("/devices/:id", async (c) => {
    try {
      const dev = await call<AdminDeviceDetail>("GET", `/devices/${encodeURIComponent(c.req.param("id"))}`);
      return page(c, { title: dev.name, live: true }, <DevicePage d={dev} now={Date.now()} />);
    } catch (err) {
      if (err instanceof AdminRefusal && err.status === 404)
        return c.redirect(`/console/devices?error=${encodeURIComponent(err.message)}`, 303);
      throw err;
    }
  });

  const devicePath = (c: Context) => `/console/devices/${encodeURIComponent(c.req.param("id") ?? "")}`;
  const idOf = (c: Context) => encodeURIComponent(c.req.param("id") ?? "");
  app.post(
    "/devices/:id/rename",
    act(devicePath, async (c) => {
      const form = await c.req.parseBody();
      const dev = await call<AdminDevice>("PATCH", `/devices/${idOf(c)}`, { name: String(form.name ?? "") });
      return `Renamed to ${dev.name}`;
    }),
  );
  for (const action of ["disable", "enable"] as const) {
    app.post(
      `/devices/:id/${action}`,
      act(devicePath, async (c) => {
        const dev = await call<AdminDevice>("POST", `/devices/${idOf(c)}/${action}`);
        return `${dev.name} is ${action}d`;
      }),
    );
  }
  app.post(
    "/devices/:id/remove",
    act(
      () => "/console/devices",
      async (c) => {
        await call("DELETE", `/devices/${idOf(c)}`);
        return "Device removed; it must enroll again";
      },
    ),
  );
  app.post(
    "/devices/:id/allow-list",
    act(devicePath, async (c) => {
      const form = await c.req.parseBody();
      const entries = String(form.entries ?? "")
        .split(/[\s,]+/)
        .filter(Boolean);
      const out = await call<AllowListResponse>("PUT", `/devices/${idOf(c)}/allow-list`, { create: entries });
      return `Allow-list saved (${out.entries.length} entries)`;
    }),
  );

  app.get("/lists", async (c) => {
    const devices = await call<AdminDevice[]>("GET", "/devices");
    const withLists = await Promise.all(
      devices.map(async (dev) => ({
        ...dev,
        entries: (await call<AdminDeviceDetail>("GET", `/devices/${dev.id}`)).allowList.entries,
      })),
    );
    const groups = await call<GroupResponse[]>("GET", "/groups");
    return page(
      c,
      { title: "Allow-lists & groups", live: true },
      <ListsPage devices={withLists} groups={groups} />,
    );
  });

  app.get("/sessions", async (c) => {
    const since = Date.now() - REPORTED_WINDOW_MS;
    const [list, spool, ends] = await Promise.all([
      call<AdminSession[]>("GET", "/sessions"),
      call<AdminSpoolItem[]>("GET", "/spool/items"),
      call<AccountingEntry[]>("GET", `/accounting?from=${since}`),
    ]);
    return page(
      c,
      { title: "Sessions", live: true },
      <SessionsPage sessions={list} spool={spool} reported={reportedBytes(ends)} now={Date.now()} />,
    );
  });
  app.post(
    "/sessions/:id/end",
    act(
      () => "/console/sessions",
      async (c) => {
        const r = await call<{ acknowledged: { caller: boolean; callee: boolean } }>(
          "POST",
          `/sessions/${idOf(c)}/end`,
          {
            reason: "ended from the console",
          },
        );
        return `Session ended (caller ${r.acknowledged.caller ? "told" : "unreachable"}, callee ${r.acknowledged.callee ? "told" : "unreachable"})`;
      },
    ),
  );

  app.get("/spool", async (c) => {
    const items = await call<AdminSpoolItem[]>("GET", "/spool/items");
    return page(c, { title: "Spool", live: true }, <SpoolPage items={items} now={Date.now()} />);
  });
  app.post(
    "/spool/:id/delete",
    act(
      () => "/console/spool",
      async (c) => {
        await call("DELETE", `/spool/items/${idOf(c)}`);
        return "Spool item deleted";
      },
    ),
  );

  /** The accounting filter from the query string, and the admin API query it maps to. */
  const accountingQuery = (c: Context) => {
    const q: AccountingQuery = {
      device: c.req.query("device") ?? "",
      from: c.req.query("from") ?? "",
      to: c.req.query("to") ?? "",
    };
    const p = new URLSearchParams();
    if (q.device) p.set("device", q.device);
    const from = parseUtcInput(q.from, "From");
    const to = parseUtcInput(q.to, "To");
    if (from !== undefined) p.set("from", String(from));
    if (to !== undefined) p.set("to", String(to));
    return { q, api: `/accounting${p.size ? `?${p}` : ""}` };
  };

  app.get("/accounting", async (c) => {
    const devices = await call<AdminDevice[]>("GET", "/devices");
    let rows: AccountingEntry[] = [];
    let q: AccountingQuery = { device: "", from: "", to: "" };
    let error: string | undefined;
    try {
      const a = accountingQuery(c);
      q = a.q;
      rows = await call<AccountingEntry[]>("GET", a.api);
    } catch (err) {
      if (!(err instanceof AdminRefusal)) throw err;
      error = err.message;
    }
    const csvHref = `/console/accounting.csv${new URL(c.req.url).search}`;
    return page(
      c,
      { title: "Accounting" },
      <>
        <Notices error={error} />
        <AccountingPage rows={rows} devices={devices} q={q} csvHref={csvHref} />
      </>,
    );
  });

  app.get("/accounting.csv", async (c) => {
    const devices = await call<AdminDevice[]>("GET", "/devices");
    let api: string;
    try {
      api = accountingQuery(c).api;
    } catch (err) {
      if (!(err instanceof AdminRefusal)) throw err;
      return c.text(err.message, 400);
    }
    const rows = await call<AccountingEntry[]>("GET", api);
    const name = (id: string) => devices.find((x) => x.id === id)?.name ?? id;
    return c.body(accountingCsv(rows, name), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="pvrlink-accounting.csv"',
    });
  });

  return app;
}

/** @module The console's page frame: viewport tag, navigation, notices, and the live <main> the script refreshes. */
import type { Child } from "hono/jsx";

export const NAV = [
  ["/console/devices", "Devices"],
  ["/console/lists", "Allow-lists & groups"],
  ["/console/sessions", "Sessions"],
  ["/console/spool", "Spool"],
  ["/console/accounting", "Accounting"],
] as const;

export interface PageFrame {
  title: string;
  path: string;
  notice?: string | undefined;
  error?: string | undefined;
  /** Refreshed by polling (lists that change on their own); forms-only pages are not. */
  live?: boolean;
}

export function Notices(p: { notice?: string | undefined; error?: string | undefined }) {
  return (
    <>
      {p.notice ? (
        <p class="notice" role="status">
          {p.notice}
        </p>
      ) : null}
      {p.error ? (
        <p class="error" role="alert">
          {p.error}
        </p>
      ) : null}
    </>
  );
}

export function Layout(p: PageFrame & { children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · pvrlink node`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" defer />
      </head>
      <body>
        <header>
          <span class="brand">pvrlink node</span>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={href} aria-current={p.path.startsWith(href) ? "page" : undefined}>
                {label}
              </a>
            ))}
          </nav>
          <form method="post" action="/console/logout">
            <button type="submit">Log out</button>
          </form>
        </header>
        <main data-live={p.live ? "3000" : undefined}>{p.children}</main>
      </body>
    </html>
  );
}

export function LoginPage(p: { error?: string | undefined }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Log in · pvrlink node</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        <main class="login">
          <div class="card">
            <h1>pvrlink node console</h1>
            <Notices error={p.error} />
            <form method="post" action="/console/login">
              <input type="text" name="username" value="admin" autocomplete="username" hidden />
              <label for="token">Admin token</label>
              <input id="token" name="token" type="password" autocomplete="current-password" required />
              <button type="submit">Log in</button>
            </form>
            <p class="muted">
              The token is in the node's data directory: <code>pvrlink control admin-token</code>.
            </p>
          </div>
        </main>
      </body>
    </html>
  );
}

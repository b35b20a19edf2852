/** @module The console's stylesheet and its one small script, served from the binary (nothing is fetched at run time). */

/** Phone first: tables turn into labelled blocks below 720 px, so nothing overflows at 412 px. */
export const CONSOLE_CSS = `
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--accent:#0b5cad;--ok:#17803d;--bad:#b42318;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#f6f7f9}
header{background:#14213d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header .brand{font-weight:600;margin-right:auto}
header nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem}
header a{color:#dfe7ff;text-decoration:none}
header a[aria-current=page]{color:#fff;font-weight:600;text-decoration:underline}
header form{margin:0}
header button{background:none;border:1px solid #8da2d9;color:#dfe7ff;padding:.15rem .6rem}
main{padding:1rem;max-width:1200px;margin:0 auto}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
.summary{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;color:var(--muted);margin-bottom:1rem}
.card{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:1rem;margin-bottom:1rem}
table{width:100%;border-collapse:collapse;background:var(--bg);border:1px solid var(--line)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600;background:#fafbfc}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;overflow-wrap:anywhere}
.state-connected,.ok{color:var(--ok);font-weight:600}.state-offline{color:var(--muted)}.state-disabled,.bad{color:var(--bad);font-weight:600}
.notice{padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem;background:#e8f3ec;border:1px solid #b7dfc4}
.error{padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem;background:#fdecea;border:1px solid #f5c2bd}
form.inline{display:inline}
input,select,textarea,button{font:inherit}
input,select,textarea{padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;max-width:100%}
button{padding:.35rem .8rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
.actions{display:flex;flex-wrap:wrap;gap:.4rem}
.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin-bottom:1rem}
.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
progress{width:8rem;vertical-align:middle}
.qr svg{width:220px;height:220px;max-width:100%}
.token{font-size:1.05rem;padding:.5rem;background:#f0f3f7;border-radius:4px;display:block;word-break:break-all}
.muted{color:var(--muted)}
tr[data-disagree] td{background:#fff8e5}
.login{max-width:380px;margin:10vh auto}
.login input{width:100%;margin:.4rem 0 .8rem}
@media (max-width:720px){
  table,thead,tbody,tr,td{display:block;border:0}
  thead tr,table>tr:first-child:has(th){display:none}
  tr{background:var(--bg);border:1px solid var(--line);border-radius:6px;margin-bottom:.7rem;padding:.3rem .2rem}
  td{border:0;padding:.25rem .6rem;display:flex;gap:.6rem}
  td[data-label]::before{content:attr(data-label);flex:0 0 7.5rem;color:var(--muted);font-size:.85rem}
  main{padding:.7rem}
}
`;

/**
 * Live updates by polling: every 3 s the page fetches itself with x-console-fragment and swaps <main>, unless the
 * operator is typing in a field or the tab is hidden. A form marked data-confirm asks before a destructive action.
 */
export const CONSOLE_JS = `
(function () {
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f && f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });
  var main = document.querySelector("main[data-live]");
  if (!main) return;
  var busy = false;
  setInterval(function () {
    var a = document.activeElement;
    if (busy || document.hidden || (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName))) return;
    busy = true;
    fetch(location.href, { headers: { "x-console-fragment": "1" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { location.href = "/console/login"; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (t) {
        if (t !== null) { main.innerHTML = t; main.setAttribute("data-updated", String(Date.now())); }
      })
      .catch(function () {})
      .finally(function () { busy = false; });
  }, 3000);
})();
`;

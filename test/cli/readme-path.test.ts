/** @module The README's "Using it" path, run word for word as a script in a fresh home against the compiled binary. */
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { livePid } from "../../cli/pid-lock.ts";
import { ROOT, requireBinary, runCommand, X64_BINARY } from "../support/pvrlink-process.ts";

/** The fenced sh blocks of the README's "Using it" section, in order. */
export function usingItBlocks(readme: string): string[] {
  const start = readme.indexOf("\n## Using it\n");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const fresh = mkdtempSync(join(tmpdir(), "pvrlink-readme-"));
const home = join(fresh, "home");
const work = join(fresh, "work");
const lockFiles = [
  join(home, ".local/share/pvrlink/control.pid"),
  join(home, ".local/share/pvrlink/recorder.pid"),
  join(home, "alice/recorder.pid"),
];
afterAll(() => {
  // A failed step can leave a daemon behind; its PID is in its lock file.
  for (const f of lockFiles) {
    const pid = livePid(f);
    if (pid !== undefined) process.kill(pid, "SIGKILL");
  }
  rmSync(fresh, { recursive: true, force: true });
});

test("the README's Using it section runs word for word in a fresh home and every command succeeds", async () => {
  requireBinary(X64_BINARY);
  const [install, walkthrough] = usingItBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
  expect(install).toBeDefined();
  expect(walkthrough).toBeDefined();
  mkdirSync(home, { recursive: true });
  mkdirSync(work, { recursive: true });
  copyFileSync(join(ROOT, "testdata/containers/ps-mpeg2.mpg"), join(work, "holiday.mpg"));
  // `npm install && npm run build` is this test's precondition (the built x64 binary); the rest of the install
  // block runs from the repository, then the walkthrough in a working directory holding holiday.mpg.
  const installLines = install!.split("\n").filter((l) => !l.startsWith("npm install && npm run build"));
  const pathLine = installLines.find((l) => l.startsWith("export PATH="));
  expect(pathLine).toBeDefined();
  const env: Record<string, string> = {
    HOME: home,
    PATH: `${join(ROOT, "node_modules/.bin")}:/usr/local/bin:/usr/bin:/bin`,
    LANG: "C.UTF-8",
    // Documented defaults of --http, --udp and --listen: free ports, so the test never collides with a
    // running node or recorder.
    PVRLINK_HTTP: "127.0.0.1:0",
    PVRLINK_UDP: "127.0.0.1:0",
    PVRLINK_LISTEN: "127.0.0.1:0",
  };
  const run = (script: string, cwd: string) =>
    runCommand(["bash", "-euo", "pipefail", "-xc", script], { cwd, env });
  const installed = await run(installLines.join("\n"), ROOT);
  expect(installed.stderr + installed.stdout).toContain(`installed ${join(home, ".local/bin/pvrlink")}`);
  expect(installed.code).toBe(0);

  const r = await run(
    `${pathLine}\ntest "$(command -v pvrlink)" = ~/.local/bin/pvrlink\n${walkthrough}`,
    work,
  );
  if (r.code !== 0 || process.env.PVRLINK_TEST_VERBOSE) console.error(r.stderr, r.stdout);
  expect(r.code).toBe(0);
  // The send was verified by alice's recorder (or, when her box answered busy, stored on the node for her).
  expect(r.stdout).toMatch(/^sent: /m);
  // holiday.mpg was added --secret: sent by its path it still travels whole, sealed through the node (item 1).
  expect(r.stdout).toMatch(/^ {2}route secret/m);
  expect(r.stdout).toMatch(/^stopped the control node/m);
  const grandma = JSON.parse(readFileSync(join(work, "grandma.json"), "utf8")) as { node: { http: string } };
  expect(grandma.node.http).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  for (const f of lockFiles) expect(livePid(f)).toBeUndefined();
}, 120_000);

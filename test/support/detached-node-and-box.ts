/** @module A detached control node and one enrolled recorder ("box"), started with the compiled binary as a user would, in a fresh temporary directory. */
import { expect } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { livePid } from "../../cli/pid-lock.ts";
import { runPvrlink } from "./pvrlink-process.ts";

/** Loopback listeners on port 0, private addresses allowed: the node as the CLI tests run it. */
const NODE_LISTEN = ["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--allow-private-addresses"];

/**
 * `pvrlink control serve --detach`, `control enroll box`, `recorder enroll` (and, with `daemon`, `recorder run
 * --detach`), each asserted to succeed. Disposing kills what is still running (by its pid file) and removes the
 * directory.
 */
export class DetachedNodeAndBox implements AsyncDisposable {
  /** The node's data directory. */
  readonly node: string;
  /** The recorder's data directory. */
  readonly box: string;
  /** The credential file `control enroll` printed. */
  readonly credentialFile: string;

  private constructor(readonly work: string) {
    this.node = join(work, "node");
    this.box = join(work, "box");
    this.credentialFile = join(work, "box.json");
  }

  static async start(prefix: string, options: { daemon?: boolean } = {}): Promise<DetachedNodeAndBox> {
    const stage = new DetachedNodeAndBox(mkdtempSync(join(tmpdir(), `pvrlink-${prefix}-`)));
    try {
      const serve = await runPvrlink(["control", "serve", "--detach", "--data", stage.node, ...NODE_LISTEN]);
      expect(serve.code).toBe(0);
      const cred = await runPvrlink(["control", "enroll", "box", "--data", stage.node]);
      writeFileSync(stage.credentialFile, cred.stdout);
      const enroll = await runPvrlink([
        "recorder",
        "enroll",
        "--credential",
        stage.credentialFile,
        "--data",
        stage.box,
      ]);
      expect(enroll.code).toBe(0);
      if (options.daemon) {
        const run = await runPvrlink([
          "recorder",
          "run",
          "--detach",
          "--data",
          stage.box,
          "--listen",
          "127.0.0.1:0",
        ]);
        expect(run.code).toBe(0);
      }
      return stage;
    } catch (err) {
      await stage[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** The node's HTTP URL as the recorder saved it at enrollment. */
  get nodeUrl(): string {
    const saved = JSON.parse(readFileSync(join(this.box, "credential.json"), "utf8")) as {
      node: { http: string };
    };
    return saved.node.http;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const f of [join(this.node, "control.pid"), join(this.box, "recorder.pid")]) {
      const pid = livePid(f);
      if (pid !== undefined) process.kill(pid, "SIGKILL");
    }
    rmSync(this.work, { recursive: true, force: true });
  }
}

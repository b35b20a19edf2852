/** @module Checkpoints the sqlite WAL on a thread of its own, so a commit on the event loop never waits for a checkpoint's copy and fsyncs. */
import type { Database } from "bun:sqlite";

/** How often the checkpoint thread copies committed WAL frames home (a run with nothing new costs no fsync). */
export const CHECKPOINT_EVERY_MS = 100;
/**
 * The serving connection's own automatic checkpoint, in WAL pages (sqlite's default is 1000). Under writes that never
 * pause, the WAL cannot start over (sqlite restarts it only at a write that finds every frame already copied), so
 * this bound is where it does: one checkpoint of the last ~100 ms of frames inside a commit, 10-30 ms on this
 * machine. At 100,000 pages (about 400 MB of 4 KiB pages) a node writing 7,500 frames/s (800 QUERY/s) pays it once
 * every 13 s; at 10,000 it was every 1.3 s, and that was its QUERY p99. A node whose writes pause for one checkpoint
 * run (10-20 ms) starts the WAL over without it, so the WAL grows this far only under sustained load.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;
/**
 * How large the WAL file may stay while the node is idle. Without a bound the file stays as large as the longest
 * burst of writes made it (up to FALLBACK_AUTOCHECKPOINT_PAGES, ~400 MB), on a family node's small disk too. The
 * checkpoint thread cuts it back (`wal_checkpoint(TRUNCATE)`) once the writes pause and every frame is home. Not
 * sqlite's `journal_size_limit` on the serving connection: that cuts the file inside the COMMIT that starts the WAL
 * over, on the event loop, and after a burst of ~260 MB that `ftruncate` took 169 ms and the writes after it
 * allocated the file's blocks again (a 171 ms `pwrite64`), with every request in flight waiting
 * (docs/benchmarks.md, QUERY round 7).
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long close() waits for the thread to finish its checkpoint and close its connection. */
const STOP_TIMEOUT_MS = 5000;

/** What the thread has done so far (for tests and the bench): checkpoint runs, and the last run's WAL counts. */
export interface CheckpointStats {
  runs: number;
  /** WAL frames in the log at the last run, and how many of them had been copied into the database file. */
  log: number;
  checkpointed: number;
  /** The last run's error message (a busy or full disk), null after a run that succeeded. */
  lastError: string | null;
  /** Times the thread cut an idle WAL file back (a TRUNCATE checkpoint that succeeded). */
  truncations: number;
}

/**
 * sqlite runs an automatic checkpoint inside the COMMIT that takes the WAL past wal_autocheckpoint pages: it
 * copies the frames into the database file and fsyncs both files (synchronous=NORMAL syncs at checkpoints, not
 * at commits). bun:sqlite is synchronous, so that commit held the event loop for as long as the fsyncs took:
 * 100-230 ms on this machine's shared ext4, every few hundred QUERYs, and every request in flight waited.
 *
 * Here a second connection on a worker thread runs `PRAGMA wal_checkpoint(PASSIVE)` every CHECKPOINT_EVERY_MS.
 * A passive checkpoint never blocks the writer and never waits for it (sqlite.org/wal.html, "Checkpointing"), and
 * once every frame is copied the serving connection's next write starts the WAL over from its beginning. The
 * serving connection keeps an automatic checkpoint far above the thread's pace as a bound. Commits stay as
 * durable as before: a commit is in the WAL when it returns, whoever copies it home later.
 *
 * The serving connection never truncates the WAL (`journal_size_limit = -1`): a restart reuses the file from its
 * start. The thread cuts a file larger than the limit back when two runs in a row found every frame home and no
 * new one (the writes paused for a run's interval). Its TRUNCATE checkpoint takes the write lock with no wait
 * (busy_timeout 0), so a node still writing only makes it try again later; a write that comes during the cut
 * waits for it (the serving connection's busy_timeout), which an idle moment makes rare.
 */
export class WalCheckpointer {
  readonly stats: CheckpointStats = { runs: 0, log: 0, checkpointed: 0, lastError: null, truncations: 0 };
  readonly #worker: Worker;
  #stopping: Promise<void> | null = null;
  /** The thread ended on an error (its database could not be opened): nothing to wait for on stop. */
  #dead = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts checkpointing the WAL of the database open as `serving` at `path` (not ":memory:").
   * `walSizeLimitBytes`: how large an idle WAL file may stay before the thread cuts it back (default
   * WAL_SIZE_LIMIT_BYTES).
   */
  static start(
    serving: Database,
    path: string,
    everyMs = CHECKPOINT_EVERY_MS,
    o: { walSizeLimitBytes?: number } = {},
  ): WalCheckpointer {
    const limit = o.walSizeLimitBytes ?? WAL_SIZE_LIMIT_BYTES;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`Cannot limit the WAL to ${limit} bytes`);
    serving.run(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    serving.run("PRAGMA journal_size_limit = -1");
    // Inline source, not a file: the single compiled binary has no worker file beside it to load.
    const source = `
      import { Database } from "bun:sqlite";
      import { statSync } from "node:fs";
      const db = new Database(${JSON.stringify(path)}, { strict: true });
      db.run("PRAGMA busy_timeout = 0");
      const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
      const truncate = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
      const walPath = ${JSON.stringify(`${path}-wal`)};
      const walBytes = () => { try { return statSync(walPath).size; } catch { return 0; } };
      let lastLog = -1;
      const run = () => {
        try {
          const r = checkpoint.get();
          // Idle: every frame home, none added since the last run. Cut an oversized file back now, off the loop.
          const idle = r.busy === 0 && r.log > 0 && r.checkpointed === r.log && r.log === lastLog;
          lastLog = r.log;
          let truncated = false;
          if (idle && walBytes() > ${limit}) {
            const t = truncate.get();
            truncated = t.busy === 0;
            if (truncated) lastLog = -1;
          }
          postMessage({ log: r.log, checkpointed: r.checkpointed, error: null, truncated });
        } catch (err) {
          postMessage({ log: 0, checkpointed: 0, error: String(err && err.message || err), truncated: false });
        }
      };
      const timer = setInterval(run, ${Math.max(1, Math.floor(everyMs))});
      self.onmessage = () => {
        clearInterval(timer);
        checkpoint.finalize();
        truncate.finalize();
        db.close();
        postMessage("stopped");
      };
    `;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "application/javascript" })));
    // A node that is done must not be kept alive by its checkpoint thread.
    worker.unref();
    const c = new WalCheckpointer(worker);
    worker.addEventListener("message", (e: MessageEvent) => {
      const m = e.data as
        | { log: number; checkpointed: number; error: string | null; truncated: boolean }
        | "stopped";
      if (m === "stopped") return;
      c.stats.runs++;
      if (m.truncated) c.stats.truncations++;
      c.stats.log = m.log;
      c.stats.checkpointed = m.checkpointed;
      c.stats.lastError = m.error;
    });
    worker.addEventListener("error", (e: ErrorEvent) => {
      c.#dead = true;
      c.stats.lastError = e.message;
    });
    return c;
  }

  /** Stops the thread once its checkpoint in progress (if any) is done and its connection closed. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      if (this.#dead) {
        this.#worker.terminate();
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        this.#worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, STOP_TIMEOUT_MS);
      this.#worker.addEventListener("message", (e: MessageEvent) => {
        if (e.data === "stopped") done();
      });
      this.#worker.postMessage("stop");
    });
    return this.#stopping;
  }
}

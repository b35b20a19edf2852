/** @module A scripted /proc/stat for one recorder (--load-from), so its load monitor sees its CPU share rise and fall on cue. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A scripted /proc/stat for one recorder (--load-from): busy adds busy ticks, idle adds idle ticks, every
 * 100 ms, so the recorder's own LoadMonitor sees its CPU share rise past the limit and fall back.
 */
export class ScriptedLoad implements Disposable {
  #busy = 0;
  #idle = 0;
  #timer: ReturnType<typeof setInterval>;
  busy = false;

  constructor(readonly dir: string) {
    this.#timer = setInterval(() => void this.#tick(), 100);
  }

  async #tick(): Promise<void> {
    if (this.busy) this.#busy += 100;
    else this.#idle += 1000;
    const line = `cpu  ${this.#busy} 0 0 ${this.#idle} 0 0 0 0 0 0`;
    await writeFile(join(this.dir, "stat"), `${line}\ncpu0 ${line.slice(5)}\n`);
  }

  async ready(): Promise<void> {
    await this.#tick();
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

/** @module Live downloads waiting for a transfer to grow, woken by the upload, completion, ack or expiry. */

/** Per transfer id, the downloads parked until something about that transfer changes. */
export class GrowthWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Wakes every download waiting on `id` (progress, completion, removal: each re-reads the entry). */
  wake(id: string): void {
    const set = this.#waiting.get(id);
    if (!set) return;
    this.#waiting.delete(id);
    for (const f of set) f();
  }

  /** Resolves at the next wake(id), or after `ms`, whichever comes first. */
  wait(id: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#waiting.get(id)?.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      let set = this.#waiting.get(id);
      if (!set) {
        set = new Set();
        this.#waiting.set(id, set);
      }
      set.add(done);
    });
  }
}

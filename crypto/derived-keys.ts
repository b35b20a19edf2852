/** @module DerivedKeys: a key derived from each device's secret, kept beside the secret it came from, so it is derived once and never outlives that secret. */

/**
 * A key per device id, derived by `derive` from the device's secret. A kept key is used only while the caller
 * hands in that same secret (the device store's current one, compared by identity: the store keeps one array
 * per secret), so a deleted device or a new secret invalidates it by construction (issue 21 item 4). Past `max`
 * keys the memory starts over: a node with more devices than that derives some keys again, never keeps stale ones.
 */
export class DerivedKeys<K = Uint8Array> {
  readonly #keys = new Map<string, { secret: Uint8Array; key: K }>();
  readonly #derive: (secret: Uint8Array) => K;
  readonly #max: number;

  constructor(derive: (secret: Uint8Array) => K, max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`Cannot keep derived keys: max ${max} is not a positive integer`);
    this.#derive = derive;
    this.#max = max;
  }

  /** The key of `id` under `secret`, its device's current secret. */
  of(id: string, secret: Uint8Array): K {
    const hit = this.#keys.get(id);
    if (hit?.secret === secret) return hit.key;
    const key = this.#derive(secret);
    if (this.#keys.size >= this.#max) this.#keys.clear();
    this.#keys.set(id, { secret, key });
    return key;
  }

  /** Drops `id`'s key (its device is gone). */
  forget(id: string): void {
    this.#keys.delete(id);
  }

  get size(): number {
    return this.#keys.size;
  }
}

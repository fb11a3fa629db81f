/**
 * The default in-process store: a Map that forgets its least recently used keys beyond a bound.
 * Keyv drops an expired entry only when it is read, so an unbounded Map would grow with every
 * distinct key. Forgetting is always safe here: a lost entry is a miss, a lost tag version means
 * "invalidated" (DESIGN.md invariant 3).
 */
export class BoundedMemoryStore<K, V> extends Map<K, V> {
  constructor(private readonly maxEntries: number) {
    super();
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      // Re-insert: Map iterates in insertion order, so the first key is the least recently used.
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxEntries) this.delete(this.keys().next().value as K);
    return this;
  }
}

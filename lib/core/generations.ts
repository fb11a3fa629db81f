/**
 * Least recently used first out, O(1) per operation also when full: two generations of at most
 * `max / 2` keys each; a read of the older generation moves the key to the newer one, and when the
 * newer one is full the older is dropped as a whole. (Deleting the first key of one big Map would
 * cost more and more: its iteration has to skip every key deleted before.)
 */
export class Generations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly half: number;

  /** `onForget` is told whenever keys are dropped to make room (the older generation, as a whole). */
  constructor(
    max: number,
    private readonly onForget?: () => void,
  ) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: string): V | undefined {
    const young = this.young.get(key);
    if (young !== undefined) return young;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.add(key, aged);
    }
    return aged;
  }

  set(key: string, value: V): void {
    if (this.young.has(key)) this.young.set(key, value);
    else {
      this.old.delete(key);
      this.add(key, value);
    }
  }

  delete(key: string): boolean {
    return this.young.delete(key) || this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private add(key: string, value: V): void {
    if (this.young.size >= this.half) {
      const forgets = this.old.size > 0;
      this.old = this.young;
      this.young = new Map();
      if (forgets) this.onForget?.();
    }
    this.young.set(key, value);
  }
}


/**
 * The tags each key's entry learned during its computation, beyond the declared ones, so that the
 * next lookup reads their versions in its one round trip. Bounded; oldest first out. Forgetting
 * costs one more round trip on that key's next hit, nothing else.
 */
export class RememberedTags {
  private readonly byKey = new Map<string, string[]>();

  constructor(private readonly limit: number) {}

  get(key: string): string[] | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(key);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  /** Notes that the entry of `key` carries `tags`, of which `declared` are declared by its callers. */
  note(key: string, tags: readonly string[], declared: readonly string[]): void {
    const extra = tags.length === declared.length ? [] : tags.filter((tag) => !declared.includes(tag));
    const known = this.byKey.get(key);
    if (extra.length === 0) {
      if (known) this.byKey.delete(key);
      return;
    }
    if (known && known.length === extra.length && extra.every((tag) => known.includes(tag))) return;
    this.byKey.delete(key);
    this.byKey.set(key, extra);
    if (this.byKey.size > this.limit) this.byKey.delete(this.byKey.keys().next().value as string);
  }
}

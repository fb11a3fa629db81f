import assert from 'node:assert/strict';
import { TagCache } from '../../../lib/index.js';

/**
 * Reads tag versions through a second TagCache over the same store and namespace: what another
 * process would see, right after a write's `await` returned.
 */
export class TagProbe {
  private constructor(private readonly reader: TagCache) {}

  static async of(cache: TagCache): Promise<TagProbe> {
    return new TagProbe(new TagCache({ store: await cache.store(), namespace: cache.namespace }));
  }

  versions(tags: string[]): Promise<Record<string, string | undefined>> {
    return this.reader.getTagVersions(tags);
  }

  /**
   * Runs `write` and asserts that, once its promise has resolved, every tag of `changed` has a new
   * version and no tag of `unchanged` does.
   */
  async expect<T>(write: () => Promise<T>, expected: { changed: string[]; unchanged?: string[] }): Promise<T> {
    const all = [...expected.changed, ...(expected.unchanged ?? [])];
    const before = await this.versions(all);
    const result = await write();
    const after = await this.versions(all);
    const notChanged = expected.changed.filter((tag) => after[tag] === before[tag]);
    const wronglyChanged = (expected.unchanged ?? []).filter((tag) => after[tag] !== before[tag]);
    assert.deepEqual({ notInvalidated: notChanged, overInvalidated: wronglyChanged }, { notInvalidated: [], overInvalidated: [] });
    return result;
  }

  /** Asserts that every tag of `tags`, which had no version before the write, has one now. */
  async expectWritten(tags: string[]): Promise<void> {
    const now = await this.versions(tags);
    assert.deepEqual(tags.filter((tag) => now[tag] === undefined), [], 'tags the write did not invalidate');
  }
}

/** Clock granularity, not synchronisation: the versions minted so far become older than what follows. */
export function nextMillisecond(): void {
  const now = Date.now();
  while (Date.now() <= now);
}

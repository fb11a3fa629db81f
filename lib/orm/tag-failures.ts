import { AsyncLocalStorage } from 'node:async_hooks';
import { tagForType, tagsFor } from '../decorators/cache-tags.js';

/**
 * A `@CacheTags` function that threw (or returned something that is not a list of tags) while the
 * tags of an ORM write were being worked out.
 * @public
 */
export interface TagFunctionFailure {
  /** The entity whose tag function failed (its type-level tag). */
  entity: string;
  /** What the tag function threw. */
  error: unknown;
}

/*
 * A write has already reached the database when its after-hook works out its tags, so a failing
 * tag function must not abort the invalidation: the failure is collected here, the row falls back
 * to the type-level tags (which every change includes anyway), and the write's record reports it.
 */
const collecting = new AsyncLocalStorage<TagFunctionFailure[]>();

/** The tags of one row; while failures are being collected, a failing tag function gives none. */
export function rowTagsOrNone(cls: Function, row: object): string[] {
  const failures = collecting.getStore();
  if (!failures) return tagsFor(row, cls as never);
  try {
    return tagsFor(row, cls as never);
  } catch (error) {
    failures.push({ entity: tagForType(cls), error });
    return [];
  }
}

/**
 * Collects the tag-function failures of one write's tag computations: `run` them through it, then
 * hand `failures` to the write's record.
 */
export class TagComputation {
  readonly failures: TagFunctionFailure[] = [];

  run<T>(compute: () => T): T {
    return collecting.run(this.failures, compute);
  }
}

/** Runs `write` (an ORM statement or persist, hooks included) collecting the failures of its tag functions. */
export function collectTagFailures<T>(write: () => T): T {
  return new TagComputation().run(write);
}

/** The failures collected so far in this async context, handed over once (the list is emptied). */
export function takeTagFailures(): TagFunctionFailure[] {
  const failures = collecting.getStore();
  return failures ? failures.splice(0) : [];
}

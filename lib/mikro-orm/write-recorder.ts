import { WriteInvalidator, type TagFunctionFailure, type WriteFailures } from '../orm/index.js';

/** What an `invalidate` event's `source` says about a MikroORM write. */
export interface MikroOrmWriteSource extends WriteFailures {
  orm: 'mikro-orm';
  /** The write that caused it: `flush`, `nativeUpdate`, `qb.update`, `execute`, `commit`, `rollback`, ... */
  operation: string;
  /** The entity written, when there is one. */
  entity?: string;
}

/*
 * MikroORM 6 marks a savepoint with a private symbol that points at the enclosing transaction; the
 * root is the one without it. The description is the only handle on the symbol (it is not exported).
 * MikroORM 7 has no such link (a savepoint is a kysely transaction of its own, with a
 * `savepointName`): the subscriber learns each savepoint's parent as it starts (`savepointStarted`).
 */
function symbolParentOf(trx: object): object | undefined {
  for (const symbol of Object.getOwnPropertySymbols(trx)) {
    if (symbol.description === 'parentTransaction') return (trx as Record<symbol, object | undefined>)[symbol];
  }
  return undefined;
}

/** Buffers per root transaction: a savepoint's writes end with its outermost transaction. */
export class WriteRecorder extends WriteInvalidator<object, MikroOrmWriteSource> {
  /** MikroORM 7's savepoints, each with the transaction it was started in. */
  private readonly parents = new WeakMap<object, object>();

  /** Notes that `savepoint` was started inside `parent` (MikroORM 7). */
  savepointStarted(savepoint: object, parent: object): void {
    if (savepoint !== parent) this.parents.set(savepoint, parent);
  }

  /** The outermost transaction a (savepoint) transaction belongs to. */
  private rootOf(trx: object): object {
    let current = trx;
    for (let parent = this.parentOf(current); parent && parent !== current; parent = this.parentOf(current)) current = parent;
    return current;
  }

  private parentOf(trx: object): object | undefined {
    return this.parents.get(trx) ?? symbolParentOf(trx);
  }

  /** Records the tags of a write made in `trx` (a savepoint or a root transaction), or outside any. */
  override record(trx: object | undefined, tags: readonly string[], source: MikroOrmWriteSource, failures?: readonly TagFunctionFailure[]): Promise<void> | undefined {
    return super.record(trx && this.rootOf(trx), tags, source, failures);
  }

  /** Holds what a root transaction buffered, just before it commits. */
  transactionCommitting(trx: object | undefined): void {
    if (trx && !this.parentOf(trx)) this.committing(trx);
  }

  /**
   * Bumps what the transaction buffered when a root transaction commits or rolls back. The end of a
   * savepoint (MikroORM 7 reports those too) ends nothing: its writes wait for the root's end.
   */
  transactionEnded(trx: object | undefined, operation: 'commit' | 'rollback'): Promise<void> | undefined {
    if (!trx || this.parentOf(trx)) return undefined;
    return this.end(trx, () => ({ orm: 'mikro-orm', operation }) satisfies MikroOrmWriteSource);
  }
}

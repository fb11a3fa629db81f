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
 */
function parentOf(trx: object): object | undefined {
  for (const symbol of Object.getOwnPropertySymbols(trx)) {
    if (symbol.description === 'parentTransaction') return (trx as Record<symbol, object | undefined>)[symbol];
  }
  return undefined;
}

/** The outermost transaction a (savepoint) transaction belongs to. */
export function rootTransaction(trx: object): object {
  let current = trx;
  for (let parent = parentOf(current); parent && parent !== current; parent = parentOf(current)) current = parent;
  return current;
}

/** Buffers per root transaction: a savepoint's writes end with its outermost transaction. */
export class WriteRecorder extends WriteInvalidator<object, MikroOrmWriteSource> {
  /** Records the tags of a write made in `trx` (a savepoint or a root transaction), or outside any. */
  override record(trx: object | undefined, tags: readonly string[], source: MikroOrmWriteSource, failures?: readonly TagFunctionFailure[]): Promise<void> {
    return super.record(trx && rootTransaction(trx), tags, source, failures);
  }

  /** Bumps what the transaction buffered; called when a root transaction commits or rolls back. */
  async transactionEnded(trx: object | undefined, operation: 'commit' | 'rollback'): Promise<void> {
    if (trx) await this.end(rootTransaction(trx), () => ({ orm: 'mikro-orm', operation }) satisfies MikroOrmWriteSource);
  }
}

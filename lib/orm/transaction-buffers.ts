/**
 * Tags collected per open transaction, keyed by the object that identifies the transaction (a
 * TypeORM QueryRunner, a MikroORM root transaction). Weakly held: a transaction object that is
 * dropped without an end event takes its buffer with it. Not `queryRunner.data`, which TypeORM
 * swaps during `save(..., { data })` (shared/notes/orm-events.md §1).
 */
export class TransactionBuffers<K extends object> {
  private readonly buffers = new WeakMap<K, Set<string>>();

  add(transaction: K, tags: Iterable<string>): void {
    let buffer = this.buffers.get(transaction);
    if (!buffer) this.buffers.set(transaction, (buffer = new Set()));
    for (const tag of tags) buffer.add(tag);
  }

  /** Removes and returns the tags buffered for `transaction`. */
  take(transaction: K): string[] {
    const buffer = this.buffers.get(transaction);
    this.buffers.delete(transaction);
    return buffer ? [...buffer] : [];
  }

  has(transaction: K): boolean {
    return (this.buffers.get(transaction)?.size ?? 0) > 0;
  }
}

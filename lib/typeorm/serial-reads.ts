import type { QueryRunner } from 'typeorm';

/*
 * TypeORM runs the after-hooks of one statement's rows concurrently (a many-to-many save removes
 * several junction rows at once), and each hook may read rows on the writer's query runner. A query
 * runner is one database connection: pg deprecates (and pg 9 rejects) a query sent while another is
 * still running on the same client. Reads cache-tags issues on one query runner therefore queue
 * behind each other; reads without a query runner each take a pooled connection of their own.
 */
const queues = new WeakMap<QueryRunner, Promise<unknown>>();

/** Runs `read` once every earlier read of cache-tags on `queryRunner` has settled. */
export function serialRead<T>(queryRunner: QueryRunner | undefined, read: () => Promise<T>): Promise<T> {
  if (!queryRunner) return read();
  const previous = queues.get(queryRunner) ?? Promise.resolve();
  const next = previous.then(read, read);
  queues.set(queryRunner, next.catch(() => undefined));
  return next;
}

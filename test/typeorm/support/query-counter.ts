import assert from 'node:assert/strict';
import type { Logger } from 'typeorm';

/** A TypeORM logger that counts the statements sent to the database: a cache hit sends none. */
export class QueryCounter implements Logger {
  count = 0;

  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  /** Runs `read` and asserts it was served from the cache (no statement reached the database). */
  async hit<T>(read: () => Promise<T>, why = 'served from the cache'): Promise<T> {
    const before = this.count;
    const result = await read();
    assert.equal(this.count - before, 0, `expected a hit (${why}), but the query ran`);
    return result;
  }

  /** Runs `read` and asserts it reached the database (the cached result was invalidated). */
  async miss<T>(read: () => Promise<T>, why = 'invalidated'): Promise<T> {
    const before = this.count;
    const result = await read();
    assert.ok(this.count > before, `expected a miss (${why}), but the result came from the cache`);
    return result;
  }
}

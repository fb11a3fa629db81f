/* better-sqlite3 ships no type declarations: the few calls the multi-process test makes. */
export interface SqliteFile {
  prepare(sql: string): { get(): unknown };
  exec(sql: string): void;
  pragma(statement: string): unknown;
  close(): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS package
export const openSqlite = (file: string): SqliteFile => new (require('better-sqlite3') as new (file: string, options: { timeout: number }) => SqliteFile)(file, { timeout: 5000 });

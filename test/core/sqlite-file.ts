/*
 * The SQLite file the multi-process test shares, opened with Node's own node:sqlite where Node has
 * it (22), so that a Node 22 leg needs no native addon built for its ABI, and with better-sqlite3 on
 * Node 20. Neither ships type declarations here: the few calls the test makes.
 */
export interface SqliteFile {
  prepare(sql: string): { get(): unknown };
  exec(sql: string): void;
  close(): void;
}

type Open = new (file: string, options: { timeout: number }) => SqliteFile;

function driver(): Open {
  const builtin = process.getBuiltinModule('node:sqlite') as { DatabaseSync: Open } | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS package
  return builtin?.DatabaseSync ?? (require('better-sqlite3') as Open);
}

/** Opens `file`, waiting up to 5 s for another process's lock. */
export const openSqlite = (file: string): SqliteFile => new (driver())(file, { timeout: 5000 });

/*
 * Raw SQL reaches no entity hook, so the integrations invalidate the type-level tag of the table a
 * write statement targets. Only the statement's target is parsed: the first keyword decides, and
 * anything else (SELECT, DDL, a CTE) targets no table here.
 */
const IDENT = String.raw`(?:"(?:[^"]|"")+"|\x60[^\x60]+\x60|\[[^\]]+\]|[A-Za-z_][\w$]*)`;
const TARGET = new RegExp(
  String.raw`^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?(?:IGNORE\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?(?:\s+ONLY)?|DELETE\s+FROM(?:\s+ONLY)?|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?)\s+(${IDENT}(?:\s*\.\s*${IDENT})*)`,
  'i',
);

/** What a write statement (or a comment before one) may start with. */
const WRITE_START = /^\s*[IiRrUuDdTt/-]/;

function unquote(part: string): string {
  const p = part.trim();
  if (p.startsWith('"')) return p.slice(1, -1).replace(/""/g, '"');
  if (p.startsWith('`') || p.startsWith('[')) return p.slice(1, -1);
  return p;
}

/** Strips leading comments, which drivers and query builders may prepend. */
function stripLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith('--')) s = t.slice(t.indexOf('\n') + 1 || t.length);
    else if (t.startsWith('/*')) s = t.slice(t.indexOf('*/') + 2 || t.length);
    else return t;
  }
}

/**
 * The table that an INSERT / UPDATE / DELETE / REPLACE / TRUNCATE statement writes, without its
 * schema, unquoted; `undefined` for any other statement.
 */
export function writeTargetTable(sql: string): { table: string; schema?: string } | undefined {
  // Every statement of every ORM call comes through here: SELECT, BEGIN, COMMIT are told apart by their first letter.
  if (!WRITE_START.test(sql)) return undefined;
  const match = TARGET.exec(stripLeadingComments(sql));
  if (!match) return undefined;
  const parts = match[1].split(/\s*\.\s*(?=(?:"|`|\[|[A-Za-z_]))/).map(unquote);
  const table = parts[parts.length - 1];
  return parts.length > 1 ? { table, schema: parts[parts.length - 2] } : { table };
}

/**
 * Whether an entity mapped to `tableName` (in `schema`) is the table a statement writes: names
 * compare case-insensitively (unquoted SQL identifiers fold), schemas only when both are known.
 */
export function isWrittenTable(target: { table: string; schema?: string }, tableName: string | undefined, schema?: string): boolean {
  return tableName?.toLowerCase() === target.table.toLowerCase() && (!target.schema || !schema || schema === target.schema);
}

import type { DataSource, EntityMetadata, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { serialRead } from './serial-reads.js';

/** An entity-shaped object: column values by property name, M2O/O2O owner relations as `{ <referenced column>: value }`. */
export type Row = Record<string, unknown>;

/** Largest number of keys in one select: stays far below SQLite's and PostgreSQL's parameter limits. */
const KEYS_PER_QUERY = 300;

/** An empty row, of the entity's class when it has one, so that getters in tag functions work. */
function blank(metadata: EntityMetadata): Row {
  return typeof metadata.target === 'function' ? Object.create(metadata.target.prototype as object) : {};
}

/**
 * A fresh entity-shaped row with the column values of `sources` laid over each other, later ones
 * winning. A relation and an explicit FK column (`user` and `userId`) share one database column, so
 * a value given through either is set on both: a tag function may read whichever it likes.
 */
export function entityRow(metadata: EntityMetadata, ...sources: (object | undefined | null)[]): Row {
  const row = blank(metadata);
  for (const source of sources) {
    if (!source) continue;
    const provided = new Map<string, unknown>();
    for (const column of metadata.columns) {
      const value = column.getEntityValue(source);
      if (value === undefined) continue;
      column.setEntityValue(row, value);
      provided.set(column.databaseName, value);
    }
    for (const column of metadata.columns) {
      if (provided.has(column.databaseName)) column.setEntityValue(row, provided.get(column.databaseName));
    }
  }
  return row;
}

/** The values of `columns` in `row`, in order. */
export function keyOf(columns: readonly ColumnMetadata[], row: object): unknown[] {
  return columns.map((column) => column.getEntityValue(row));
}

/**
 * Runs `qb` (any SELECT over `metadata`'s table, with its WHERE already set) for every column of
 * the entity, soft-deleted rows included, and returns the rows entity-shaped.
 */
export async function selectRows(qb: SelectQueryBuilder<any>, metadata: EntityMetadata): Promise<Row[]> {
  const driver = qb.connection.driver;
  const alias = driver.escape(qb.alias);
  qb.expressionMap.selects = [];
  metadata.columns.forEach((column, i) => qb.addSelect(`${alias}.${driver.escape(column.databaseName)}`, `ct_${i}`));
  // The builder's own query runner (protected in TypeORM's types): the connection the read goes to.
  const queryRunner = (qb as unknown as { queryRunner?: QueryRunner }).queryRunner;
  const raws = await serialRead(queryRunner, () => qb.withDeleted().getRawMany());
  return raws.map((raw: Record<string, unknown>) => {
    const row = blank(metadata);
    metadata.columns.forEach((column, i) => {
      const value = raw[`ct_${i}`];
      if (value !== undefined) column.setEntityValue(row, value === null ? null : driver.prepareHydratedValue(value, column));
    });
    return row;
  });
}

/**
 * The rows of `metadata` whose `columns` equal one of `keys` (each aligned with `columns`), read on
 * `queryRunner` so that a transaction sees its own writes. Keys with a null part match nothing.
 */
export async function rowsByKeys(
  dataSource: DataSource,
  queryRunner: QueryRunner | undefined,
  metadata: EntityMetadata,
  columns: readonly ColumnMetadata[],
  keys: readonly unknown[][],
): Promise<Row[]> {
  const usable = keys.filter((key) => key.every((part) => part !== undefined && part !== null));
  const rows: Row[] = [];
  const driver = dataSource.driver;
  for (let start = 0; start < usable.length; start += KEYS_PER_QUERY) {
    const chunk = usable.slice(start, start + KEYS_PER_QUERY);
    const qb = dataSource.createQueryBuilder(metadata.target, 'ct_row', queryRunner);
    const alias = driver.escape('ct_row');
    const parameters: Record<string, unknown> = {};
    // One key column (the usual primary key): IN, which the database plans far better than ORs.
    const condition = columns.length === 1
      ? `${alias}.${driver.escape(columns[0].databaseName)} IN (:...ct_keys)`
      : chunk.map((key, k) => {
        const parts = columns.map((column, c) => {
          parameters[`ct_k${k}_${c}`] = driver.preparePersistentValue(key[c], column);
          return `${alias}.${driver.escape(column.databaseName)} = :ct_k${k}_${c}`;
        });
        return `(${parts.join(' AND ')})`;
      }).join(' OR ');
    if (columns.length === 1) parameters.ct_keys = chunk.map((key) => driver.preparePersistentValue(key[0], columns[0]));
    rows.push(...(await selectRows(qb.where(condition, parameters), metadata)));
  }
  return rows;
}

/**
 * Where `rows` are after an UPDATE that SETs `values`: a SET of a primary column (a link of a
 * junction-mapped entity moved) puts the rows under a key a re-read by the old one misses.
 * `undefined` when a key is SET by an SQL expression (a function): where the rows went is not known.
 */
export function rowsAfterUpdate(metadata: EntityMetadata, rows: readonly Row[], values: unknown): readonly Row[] | undefined {
  if (!values || typeof values !== 'object') return rows;
  const set = keyOf(metadata.primaryColumns, values);
  if (set.some((value) => typeof value === 'function')) return undefined;
  return set.every((value) => value === undefined) ? rows : rows.map((row) => entityRow(metadata, row, values));
}

/** The current rows with the primary keys of `rows`. */
export function reselect(dataSource: DataSource, queryRunner: QueryRunner | undefined, metadata: EntityMetadata, rows: readonly Row[]): Promise<Row[]> {
  return rowsByKeys(dataSource, queryRunner, metadata, metadata.primaryColumns, rows.map((row) => keyOf(metadata.primaryColumns, row)));
}

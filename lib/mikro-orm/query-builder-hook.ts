import { Utils, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import { TagComputation } from '../orm/index.js';
import { bulkCascadeTags, cascadeTags, rowsOfBulkWrite } from './row-queries.js';
import { entityShaped, propertiesOf, tagsOfRows, type Row } from './rows.js';
import { sqlPackage } from './sql-package.js';
import { optionOf, recordWrite, subscribersOf } from './subscriber.js';

/**
 * The private parts of a QueryBuilder this hook reads. MikroORM 6 keeps the condition and the data
 * on the builder (`_cond`, `_data`) and the metadata at `mainAlias.metadata`; 7 keeps them in its
 * `state` and at `mainAlias.meta`. `type`, `em`, `context` and `alias` are in both.
 */
interface WriteQueryBuilder {
  type?: string;
  em?: EntityManager;
  context?: object;
  alias: string;
  mainAlias?: { metadata?: EntityMetadata; meta?: EntityMetadata };
  _cond?: object;
  _data?: Row | Row[];
  state?: { cond: object; data?: Row | Row[] };
}

/** What a write builder says about its write, in either version. */
function writeOf(qb: WriteQueryBuilder): { meta: EntityMetadata | undefined; cond: object; data: Row | Row[] | undefined } {
  const state = qb.state;
  return { meta: qb.mainAlias?.meta ?? qb.mainAlias?.metadata, cond: state ? state.cond : (qb._cond ?? {}), data: state ? state.data : qb._data };
}

interface RunResult {
  insertId?: unknown;
  rows?: Row[];
}

// Module-local, not Symbol.for: with both the ESM and the CJS build loaded, each wraps once and
// serves its own subscribers (a shared mark let the first build's wrapper skip the other's).
const HOOKED = Symbol('cache-tags mikro-orm query-builder hook');

function insertedRows(meta: EntityMetadata, data: Row | Row[] | undefined, result: RunResult): Row[] {
  const key = meta.primaryKeys.length === 1 ? meta.primaryKeys[0] : undefined;
  const column = key ? meta.properties[key as never]?.fieldNames?.[0] : undefined;
  const rows = Utils.asArray(data ?? []);
  return rows.map((data, i) => {
    const row = entityShaped(meta, propertiesOf(meta, data as Row));
    if (!key || row[key] !== undefined) return row;
    const returned = column ? result.rows?.[i]?.[column] : undefined;
    return { ...row, [key]: returned ?? (rows.length === 1 ? result.insertId : undefined) };
  });
}

/**
 * Makes `qb.insert()/update()/delete()/truncate()` executions invalidate: for an update or delete
 * the matching rows are read first with the builder's own condition, on its transaction. Only
 * builders made by an entity manager whose ORM has a {@link CacheTagsSubscriber} are touched;
 * those MikroORM builds internally (flush, `nativeUpdate`, ...) have none and are covered elsewhere.
 * Idempotent.
 */
export function coverQueryBuilderWrites(): void {
  const proto = sqlPackage.QueryBuilder.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[HOOKED]) return;
  const execute = proto.execute as (this: unknown, ...args: unknown[]) => Promise<unknown>;
  proto.execute = async function (this: WriteQueryBuilder, ...args: unknown[]): Promise<unknown> {
    const type = this.type;
    const writes = type === 'INSERT' || type === 'UPDATE' || type === 'DELETE' || type === 'TRUNCATE';
    const subscribers = writes ? subscribersOf(this.em) : [];
    if (subscribers.length === 0 || !this.em || !type) return execute.apply(this, args);
    const { meta, cond, data } = writeOf(this);
    if (!meta) return execute.apply(this, args);
    const em = this.em;
    const on = { alias: this.alias, ctx: this.context };
    // Past the row threshold, `before` is empty: the type-level tags stand in for the rows.
    const matched = type === 'UPDATE' || type === 'DELETE' ? await rowsOfBulkWrite(em, meta, cond, optionOf(subscribers, 'maxRowsPerWrite'), on) : [];
    const before = matched ?? [];
    const computation = new TagComputation();
    let cascaded: string[] = [];
    if (type === 'DELETE') cascaded = matched ? await computation.run(() => cascadeTags(em, meta, matched, optionOf(subscribers, 'cascadeDepth'))) : bulkCascadeTags(em, meta);
    const result = (await execute.apply(this, args)) as RunResult;
    let after: Row[] = [];
    if (type === 'UPDATE') {
      const change = entityShaped(meta, propertiesOf(meta, (data ?? {}) as Row));
      after = before.map((row) => ({ ...row, ...change }));
    } else if (type === 'INSERT') {
      after = insertedRows(meta, data, result ?? {});
    }
    const tags = [...computation.run(() => tagsOfRows(meta, [...before, ...after])), ...cascaded];
    await recordWrite(subscribers, this.context, tags, { orm: 'mikro-orm', operation: `qb.${type.toLowerCase()}`, entity: meta.className }, computation.failures);
    return result;
  };
  proto[HOOKED] = true;
}

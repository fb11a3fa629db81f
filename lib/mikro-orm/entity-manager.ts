import { Utils, getWhereCondition, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import { TagComputation } from '../orm/index.js';
import { bulkCascadeTags, cascadeTags, rowsOfBulkWrite, selectRows } from './row-queries.js';
import { entityShaped, tagsOfRows, type Row } from './rows.js';
import { optionOf, recordWrite, subscribersOf, transactionOf, type CacheTagsSubscriber } from './subscriber.js';
import { sqlPackage } from './sql-package.js';
import { sqlOf, tableTags } from './table-tags.js';

/** Where one write's tags go, and the tag-function failures met while working them out. */
type Target = { em: EntityManager; subscribers: CacheTagsSubscriber[]; computation: TagComputation };

function metaFor(em: EntityManager, nameOrEntity: unknown): EntityMetadata {
  const name = Utils.isEntity(nameOrEntity) ? (nameOrEntity).constructor.name : Utils.className(nameOrEntity as never);
  return em.getMetadata().get(name);
}

/** The rows an upsert may overwrite, found by the same conflict condition MikroORM uses. */
function conflictCondition(meta: EntityMetadata, data: Row, onConflictFields: unknown): Row | undefined {
  try {
    const plain = Utils.isEntity(data) ? { ...data } : data;
    return getWhereCondition(meta, onConflictFields as never, plain as never, Utils.extractPK(plain, meta) as never).where as Row;
  } catch {
    return undefined; // no conflict key in the data: nothing can be overwritten, only inserted
  }
}

/**
 * The entity manager of cache-tags: MikroORM's SQL entity manager whose writes that fire no event
 * (`insert`, `insertMany`, `nativeUpdate`, `nativeDelete`, `upsert`, `upsertMany`, `execute`) invalidate
 * like a flush does. Rows an update or delete touches are read first, with the same condition on
 * the same transaction (one extra SELECT), so their old values' tags are known. Forks and
 * transactional forks are instances of it too. It extends the `SqlEntityManager` of the MikroORM
 * loaded: `@mikro-orm/knex`'s in 6, `@mikro-orm/sql`'s in 7. Set by {@link defineCacheTagsConfig}; extend it
 * for your own entity manager class. Without a {@link CacheTagsSubscriber} on the ORM it behaves
 * exactly like `SqlEntityManager`.
 * @public
 */
export class CacheTagsEntityManager<Driver extends AbstractSqlDriver = AbstractSqlDriver> extends sqlPackage.SqlEntityManager<Driver> {
  private target(): Target | undefined {
    const em = this.getContext(false);
    const subscribers = subscribersOf(em);
    return subscribers.length > 0 ? { em, subscribers, computation: new TagComputation() } : undefined;
  }

  /** Records the tags `compute` works out (tag-function failures fall back to the type-level tags, reported). */
  private async record({ em, subscribers, computation }: Target, meta: EntityMetadata | undefined, compute: () => string[], operation: string): Promise<void> {
    const tags = computation.run(compute);
    await recordWrite(subscribers, transactionOf(em), tags, { orm: 'mikro-orm', operation, entity: meta?.className }, computation.failures);
  }

  override async nativeUpdate(entityName: any, where: any, data: any, options?: any): Promise<number> {
    const t = this.target();
    if (!t) return super.nativeUpdate(entityName, where, data, options);
    const meta = metaFor(t.em, entityName);
    // Past the row threshold, `before` is empty: the type-level tags stand in for the rows.
    const before = (await rowsOfBulkWrite(t.em, meta, where, optionOf(t.subscribers, 'maxRowsPerWrite'))) ?? [];
    const count = await super.nativeUpdate(entityName, where, data, options);
    const change = entityShaped(meta, data as Row);
    await this.record(t, meta, () => tagsOfRows(meta, [...before, ...before.map((row) => ({ ...row, ...change }))]), 'nativeUpdate');
    return count;
  }

  override async nativeDelete(entityName: any, where: any, options?: any): Promise<number> {
    const t = this.target();
    if (!t) return super.nativeDelete(entityName, where, options);
    const meta = metaFor(t.em, entityName);
    const matched = await rowsOfBulkWrite(t.em, meta, where, optionOf(t.subscribers, 'maxRowsPerWrite'));
    const before = matched ?? [];
    const cascaded = matched ? await t.computation.run(() => cascadeTags(t.em, meta, matched, optionOf(t.subscribers, 'cascadeDepth'))) : bulkCascadeTags(t.em, meta);
    const count = await super.nativeDelete(entityName, where, options);
    await this.record(t, meta, () => [...tagsOfRows(meta, before), ...cascaded], 'nativeDelete');
    return count;
  }

  override async insert(entityNameOrEntity: any, data?: any, options?: any): Promise<any> {
    const t = this.target();
    if (!t) return super.insert(entityNameOrEntity, data, options);
    const meta = metaFor(t.em, entityNameOrEntity);
    const pk = await super.insert(entityNameOrEntity, data, options);
    await this.record(t, meta, () => tagsOfRows(meta, [this.inserted(meta, data ?? entityNameOrEntity, pk)]), 'insert');
    return pk;
  }

  override async insertMany(entityNameOrEntities: any, data?: any, options?: any): Promise<any[]> {
    const t = this.target();
    if (!t) return super.insertMany(entityNameOrEntities, data, options);
    const rows: Row[] = data ?? entityNameOrEntities;
    if (rows.length === 0) return super.insertMany(entityNameOrEntities, data, options);
    const meta = metaFor(t.em, data ? entityNameOrEntities : rows[0]);
    const pks = await super.insertMany(entityNameOrEntities, data, options);
    // Drivers without RETURNING report one id for a multi-row insert: rows without their own keep theirs unknown.
    const ids = pks.length === rows.length ? pks : [];
    await this.record(t, meta, () => tagsOfRows(meta, rows.map((row, i) => this.inserted(meta, row, ids[i]))), 'insertMany');
    return pks;
  }

  override async upsert(entityNameOrEntity: any, data?: any, options?: any): Promise<any> {
    const t = this.target();
    if (!t) return super.upsert(entityNameOrEntity, data, options);
    const meta = metaFor(t.em, entityNameOrEntity);
    const where = conflictCondition(meta, data ?? entityNameOrEntity, options?.onConflictFields);
    const before = where ? await selectRows(t.em, meta, where) : [];
    const entity = await super.upsert(entityNameOrEntity, data, options);
    await this.record(t, meta, () => tagsOfRows(meta, [...before, entity as Row]), 'upsert');
    return entity;
  }

  override async upsertMany(entityNameOrEntities: any, data?: any, options?: any): Promise<any[]> {
    const t = this.target();
    const rows: Row[] = data ?? entityNameOrEntities;
    if (!t || rows.length === 0) return super.upsertMany(entityNameOrEntities, data, options);
    const meta = metaFor(t.em, data ? entityNameOrEntities : rows[0]);
    const wheres = rows.map((row) => conflictCondition(meta, row, options?.onConflictFields));
    const known = wheres.filter((where): where is Row => where !== undefined);
    const before = known.length > 0 ? await selectRows(t.em, meta, { $or: known }) : [];
    const entities = await super.upsertMany(entityNameOrEntities, data, options);
    await this.record(t, meta, () => tagsOfRows(meta, [...before, ...(entities as Row[])]), 'upsertMany');
    return entities;
  }

  /** Raw SQL: invalidates the type-level tags of the table the statement writes (see `invalidateEntities` for rows). */
  override async execute(queryOrKnex: any, params?: any[], method?: any, loggerContext?: any): Promise<any> {
    const result = await super.execute(queryOrKnex, params, method, loggerContext);
    const t = this.target();
    if (t) await this.record(t, undefined, () => tableTags(t.em, sqlOf(queryOrKnex)), 'execute');
    return result;
  }

  private inserted(meta: EntityMetadata, row: Row, pk: unknown): Row {
    if (Utils.isEntity(row)) return row;
    const shaped = entityShaped(meta, row);
    const key = meta.primaryKeys[0];
    return meta.primaryKeys.length === 1 && key && shaped[key] === undefined && pk !== undefined ? { ...shaped, [key]: pk } : shaped;
  }
}

const coveringSubclasses = new WeakMap<Function, Function>();

/** Whether `em` covers its native writes: a {@link CacheTagsEntityManager}, or one of the subclasses {@link coveringClassOf} makes. */
export function coversNativeWrites(em: object): boolean {
  return em instanceof CacheTagsEntityManager || coveringSubclasses.get(Object.getPrototypeOf(em.constructor) as Function) === em.constructor;
}

/**
 * The class that covers the native writes of an entity manager of MikroORM's own class `base`: over
 * `SqlEntityManager`, {@link CacheTagsEntityManager}; over a driver's subclass of it (MikroORM 7's
 * `PostgreSqlEntityManager`, which adds `refreshMaterializedView`), a subclass of that class with
 * `CacheTagsEntityManager`'s methods, so that the driver's additions stay. Their `super` calls reach
 * `SqlEntityManager`'s writes, which those driver classes add to and do not override.
 */
export function coveringClassOf(base: Function): Function {
  if (base === sqlPackage.SqlEntityManager) return CacheTagsEntityManager;
  let covering = coveringSubclasses.get(base);
  if (!covering) {
    covering = class extends (base as typeof CacheTagsEntityManager) {};
    for (const key of Reflect.ownKeys(CacheTagsEntityManager.prototype)) {
      if (key !== 'constructor') Object.defineProperty(covering.prototype, key, Object.getOwnPropertyDescriptor(CacheTagsEntityManager.prototype, key)!);
    }
    Object.defineProperty(covering, 'name', { value: `CacheTags${base.name}` });
    coveringSubclasses.set(base, covering);
  }
  return covering;
}

import { Collection, Reference, ReferenceKind, Utils, helper, type EntityManager, type EntityMetadata, type EntityProperty, type PopulateOptions } from '@mikro-orm/core';
import { tagForType } from '../decorators/cache-tags.js';
import { fieldTag, rowsUnknownTag, valueKey } from '../orm/index.js';
import { columnValue, conditionFieldNamed } from './query-cache-fields.js';
import type { Row } from './rows.js';

/*
 * A cached result is stored as plain data shaped like the entities (property names, relations as
 * nested data or keys) and revived on a hit into managed entities of the caller's entity manager,
 * the way MikroORM's own result cache revives its entries. What is stored is what the query
 * loaded, as its populate hint says: not what else the entity manager that ran it happened to
 * hold, so a hit in another entity manager looks like a fresh load there. The same walk yields
 * the tags of the rows the result returned or loaded (rule 1).
 */

type Hint = readonly PopulateOptions<any>[];

/** What a result walk gives: the data to store, and the tags learned from it. */
export interface ResultData {
  data: unknown;
  learned: string[];
}

/** The child hint for a relation: `undefined` when the relation was not populated. */
function hintOf(hint: Hint, all: boolean, prop: EntityProperty): { children: Hint; all: boolean } | undefined {
  const own = hint.find((h) => h.field.split(':')[0] === prop.name);
  if (own) return { children: own.children ?? [], all: !!own.all };
  return all ? { children: [], all: true } : undefined;
}

/** An embeddable (or array of them) as plain data. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value)) return value;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
}

class ResultWalk {
  readonly learned = new Set<string>();

  /** A field tag of `type` learned, with the type's rows-unknown tag: a write whose rows are not known (raw SQL) must reach it too. */
  private learn(type: string, tag: string): void {
    this.learned.add(tag);
    this.learned.add(rowsUnknownTag(type));
  }

  /** The entities being walked, outermost first: `populate: ['*']` reaches them again through inverse sides. */
  private readonly path = new Set<object>();

  /** The row's own tag: its primary key's field tag (or, with no single comparable key, its type-level tag). */
  private identify(meta: EntityMetadata, row: Row): void {
    const type = tagForType(meta.class);
    const pk = meta.primaryKeys.length === 1 ? conditionFieldNamed(meta, meta.primaryKeys[0]) : undefined;
    const key = pk && valueKey(columnValue(row, pk.prop), pk.kind);
    this.learn(type, pk && typeof key === 'string' ? fieldTag(type, pk.name, key) : type);
  }

  /** Related rows found by their join column holding `owner`'s key (a to-many, an inverse one-to-one). */
  private watchJoin(prop: EntityProperty, owner: Row, ownerMeta: EntityMetadata): void {
    const target = prop.targetMeta!;
    const join = prop.mappedBy ? conditionFieldNamed(target, prop.mappedBy) : undefined;
    const pk = ownerMeta.primaryKeys.length === 1 ? owner[ownerMeta.primaryKeys[0]] : undefined;
    const key = join && pk !== undefined ? valueKey(pk, join.kind) : undefined;
    // With no comparable join column, any write of the related entity may change what was loaded.
    const type = tagForType(target.class);
    this.learn(type, join && typeof key === 'string' ? fieldTag(type, join.name, key) : type);
  }

  /** `identified`: false for a returned row the query's own tags cover already (`QueryTags.rowsCovered`). */
  entity(entity: object, hint: Hint, all: boolean, identified = true): Row {
    const wrapped = helper(entity);
    const meta = wrapped.__meta as EntityMetadata;
    const row = entity as Row;
    const loaded = wrapped.__loadedProperties;
    if (identified) this.identify(meta, row);
    const out: Row = {};
    this.path.add(entity);
    for (const prop of meta.props) {
      const value = row[prop.name];
      switch (prop.kind) {
        case ReferenceKind.SCALAR:
        case ReferenceKind.EMBEDDED:
          // Lazy and partially loaded (`fields`) columns stay out: a hit must not make them look loaded.
          if (loaded.has(prop.name) || prop.primary) out[prop.name] = prop.kind === ReferenceKind.SCALAR ? value : plain(value);
          break;
        case ReferenceKind.MANY_TO_ONE:
        case ReferenceKind.ONE_TO_ONE:
          if (value !== undefined) out[prop.name] = this.toOne(meta, prop, row, hintOf(hint, all, prop));
          break;
        default:
          this.toMany(meta, prop, row, hintOf(hint, all, prop), out);
      }
    }
    this.path.delete(entity);
    return out;
  }

  private toOne(meta: EntityMetadata, prop: EntityProperty, row: Row, populated: { children: Hint; all: boolean } | undefined): unknown {
    if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) this.watchJoin(prop, row, meta);
    const related = Reference.unwrapReference(row[prop.name] as object) as object | null | undefined;
    if (related === null || related === undefined) return related;
    if (populated && helper(related).__initialized && !this.path.has(related)) return this.entity(related, populated.children, populated.all);
    return helper(related).getPrimaryKey();
  }

  private toMany(meta: EntityMetadata, prop: EntityProperty, row: Row, populated: { children: Hint; all: boolean } | undefined, out: Row): void {
    const collection = row[prop.name];
    if (!populated || !(collection instanceof Collection) || !collection.isInitialized()) return;
    // A many-to-many link changes both linked rows' tags: the owner's own tag covers it.
    if (prop.kind === ReferenceKind.ONE_TO_MANY) this.watchJoin(prop, row, meta);
    out[prop.name] = (collection.getItems(false) as object[]).map((item) => (this.path.has(item) ? helper(item).getPrimaryKey() : this.entity(item, populated.children, populated.all)));
  }
}

/**
 * The data to store for a `find` (entities) or `findOne` (an entity or `null`) result, and the
 * tags it depends on; `rowsCovered`: the query's tags already cover its returned rows.
 */
export function resultData(result: object | readonly object[] | null, hint: Hint, rowsCovered: boolean): ResultData {
  const walk = new ResultWalk();
  const root = (entity: object): Row => walk.entity(entity, hint, false, !rowsCovered);
  const data = Array.isArray(result) ? result.map(root) : result && root(result);
  return { data, learned: [...walk.learned] };
}

/** A fresh copy of the plain parts of stored data: MikroORM's hydration may change what it is given, and one hit's data can reach several callers. */
function copy(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(copy);
  return Utils.isPlainObject(data) ? Object.fromEntries(Object.entries(data).map(([key, value]) => [key, copy(value)])) : data;
}

/** What a read asked for that shapes how its entities serialize (`toObject`, `toJSON`). */
export interface ReadShape {
  populate: Hint;
  fields?: readonly string[];
  exclude?: readonly string[];
  refresh?: boolean;
}

/**
 * Managed entities of `em` from stored data (merged into its identity map, as a load from the
 * database would be; with `refresh`, overwriting what it holds), their `onLoad` hooks fired, and
 * serializing with what the read populated, as MikroORM's own load sets them to.
 */
export async function reviveResult(em: EntityManager, entityName: string, data: unknown, shape: ReadShape): Promise<unknown> {
  const factory = em.getEntityFactory();
  const options = { merge: true, convertCustomTypes: false, refresh: shape.refresh, recomputeSnapshot: true };
  const revive = (item: unknown): object => {
    const entity = factory.create(entityName, copy(item) as object, options);
    helper(entity).setSerializationContext({ populate: shape.populate as never, fields: shape.fields as never, exclude: shape.exclude as never });
    return entity;
  };
  const result = Array.isArray(data) ? data.map(revive) : data === null || data === undefined ? null : revive(data);
  await em.getUnitOfWork().dispatchOnLoadEvent();
  return result;
}

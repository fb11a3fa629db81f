import { ChangeSetType, type ChangeSet, ReferenceKind, helper, type Collection, type EntityManager, type EntityMetadata, type EventArgs, type EventSubscriber, type FlushEventArgs, type TransactionEventArgs, type UnitOfWork } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { TagCache } from '../core/tag-cache.js';
import { addCacheTags, currentScope, describe } from '../core/tracking-scope.js';
import { tagsFor } from '../decorators/cache-tags.js';
import { tagsOfChange } from '../orm/index.js';
import { cascadeTags, relatedTags } from './row-queries.js';
import { entityShaped, holdsForeignKey, tagsOfRows, type Row } from './rows.js';
import { WriteRecorder, type MikroOrmWriteSource } from './write-recorder.js';

/**
 * Options of {@link CacheTagsSubscriber} and {@link defineCacheTagsConfig}.
 * @public
 */
export interface CacheTagsSubscriberOptions {
  /** The cache writes invalidate: an instance, or a name given to `registerTagCache`. Default: the default cache. */
  cache?: TagCache | string;
  /**
   * Tracked loads: an entity that `em.find*` loads inside a cached computation adds its row tags
   * to that computation, as if it were declared. Default `false`. Only entities loaded with every
   * column (`fields` not narrowed) count: a partial entity's tags could be wrong. A query that loads
   * no row learns nothing, so results that can gain rows still declare a list or type-level tag. A
   * value is stored only when every tag it learned was last invalidated (or first written) more than
   * the cache's `clockSkewMs` before the computation started; otherwise it is returned, not stored.
   */
  trackLoads?: boolean;
}

type ManyToManyUpdate = Collection<object, object>;

function manyToManyUpdates(uow: UnitOfWork): ManyToManyUpdate[] {
  return (uow.getCollectionUpdates() as ManyToManyUpdate[]).filter((coll) => coll.property.kind === ReferenceKind.MANY_TO_MANY && coll.property.targetMeta);
}

function metaOf(entity: object): EntityMetadata {
  return helper(entity).__meta as EntityMetadata;
}

/** Items on one side of a many-to-many change and not on the other: the links added and removed. */
function changedLinks(coll: ManyToManyUpdate): object[] {
  const before = coll.getSnapshot() ?? [];
  const after = coll.getItems(false);
  return [...after.filter((item) => !before.includes(item)), ...before.filter((item) => !after.includes(item))];
}

/** Whether every column of the entity was loaded (a `fields` option leaves some out). */
function fullyLoaded(entity: object, meta: EntityMetadata): boolean {
  const loaded = helper(entity).__loadedProperties;
  return meta.props.every((prop) => prop.lazy || prop.persist === false || (prop.kind !== ReferenceKind.SCALAR && !holdsForeignKey(prop)) || loaded.has(prop.name));
}

/** The row as loaded (database shape): a delete's change set has no `originalEntity`, the entity's snapshot has it. */
function oldRow(cs: ChangeSet<object>): Row | undefined {
  return (cs.originalEntity ?? helper(cs.entity).__originalEntityData);
}

/**
 * The MikroORM subscriber of cache-tags: every flush invalidates the tags of the old and new
 * values of each row it writes (the `@CacheTags` function of the entity, plus its type-level
 * tag), of both sides of each many-to-many link it adds or removes, and of the rows the database
 * deletes or nullifies by `ON DELETE` rules. Outside a transaction the `flush` returns after the
 * invalidation; inside one, the tags wait for the outermost commit or rollback.
 *
 * Register it through {@link defineCacheTagsConfig}, which also covers the writes that fire no
 * event (`em.insert`, `nativeUpdate`, query builders, `em.execute`, ...).
 * @public
 */
export class CacheTagsSubscriber implements EventSubscriber {
  /** @internal */
  readonly recorder: WriteRecorder;
  /** Tags read before the writes of a flush (rows the database changes by itself, links it unlinks wholesale). */
  private readonly preWrite = new WeakMap<UnitOfWork, string[]>();
  onLoad?: (args: EventArgs<object>) => void;

  constructor(options: CacheTagsSubscriberOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new CacheTagsError('E_INVALID_OPTION', `CacheTagsSubscriber options must be an object, got ${describe(options)}`);
    }
    const { cache, trackLoads } = options;
    if (cache !== undefined && typeof cache !== 'string' && !(cache instanceof TagCache)) {
      throw new CacheTagsError('E_INVALID_OPTION', `CacheTagsSubscriber option cache must be a TagCache or the name of a registered one, got ${describe(cache)}`);
    }
    this.recorder = new WriteRecorder(cache);
    // Declared only when wanted: MikroORM skips the onLoad dispatch for subscribers without it.
    if (trackLoads) this.onLoad = ({ entity, meta }) => {
      if (currentScope() && fullyLoaded(entity, meta)) addCacheTags(...tagsFor(entity, meta.class as never));
    };
  }

  async onFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const changeSets = uow.getChangeSets();
    const created = new Set(changeSets.filter((cs) => cs.type === ChangeSetType.CREATE).map((cs) => cs.entity));
    const tags: string[] = [];
    // Links are diffed here: the commit replaces the snapshots. New rows get their tags from their own change sets.
    for (const coll of manyToManyUpdates(uow)) {
      if (!created.has(coll.owner)) tags.push(...tagsOfRows(metaOf(coll.owner), [coll.owner as Row]));
      tags.push(...tagsOfRows(coll.property.targetMeta!, changedLinks(coll).filter((item) => !created.has(item)) as Row[]));
      // No snapshot: `set()` on a collection never loaded replaces every link, unknown here: read them.
      if (coll.getSnapshot() === undefined && !created.has(coll.owner)) {
        tags.push(...(await relatedTags(em, coll.property, [helper(coll.owner).getPrimaryKey()])));
      }
    }
    const deleted = new Map<EntityMetadata, Row[]>();
    for (const cs of changeSets) {
      if (cs.type !== ChangeSetType.DELETE) continue;
      const rows = deleted.get(cs.meta) ?? [];
      rows.push(entityShaped(cs.meta, oldRow(cs) ?? (cs.entity as Row)));
      deleted.set(cs.meta, rows);
    }
    // Read now: once deleted, the entity's snapshot is gone.
    for (const [meta, rows] of deleted) tags.push(...tagsOfRows(meta, rows), ...(await cascadeTags(em, meta, rows)));
    this.preWrite.set(uow, tags);
  }

  async afterFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const tags = new Set(this.preWrite.get(uow));
    this.preWrite.delete(uow);
    for (const cs of uow.getChangeSets()) {
      if (cs.type === ChangeSetType.DELETE) continue;
      const old = cs.type === ChangeSetType.CREATE ? undefined : oldRow(cs);
      const before = old && entityShaped(cs.meta, old);
      for (const tag of tagsOfChange(cs.meta.class, before, cs.entity as Row)) tags.add(tag);
    }
    await this.recorder.record(transactionOf(em), [...tags], { orm: 'mikro-orm', operation: 'flush' });
  }

  async afterTransactionCommit({ transaction }: TransactionEventArgs): Promise<void> {
    await this.recorder.transactionEnded(transaction, 'commit');
  }

  async afterTransactionRollback({ transaction }: TransactionEventArgs): Promise<void> {
    await this.recorder.transactionEnded(transaction, 'rollback');
  }
}

/** The transaction `em` writes in, if any. */
export function transactionOf(em: EntityManager): object | undefined {
  return em.getTransactionContext<object>();
}

/** The cache-tags subscribers registered on the ORM of `em` (one per cache). */
export function subscribersOf(em: EntityManager | undefined): CacheTagsSubscriber[] {
  if (!em) return [];
  return [...em.getEventManager().getSubscribers()].filter((s): s is CacheTagsSubscriber => s instanceof CacheTagsSubscriber);
}

/** Hands the tags of one write to every cache-tags subscriber of its ORM. */
export async function recordWrite(subscribers: CacheTagsSubscriber[], trx: object | undefined, tags: string[], source: MikroOrmWriteSource): Promise<void> {
  await Promise.all(subscribers.map((s) => s.recorder.record(trx, tags, source)));
}

import { ChangeSetType, type ChangeSet, ReferenceKind, helper, type Collection, type EntityManager, type EntityMetadata, type EventArgs, type EventSubscriber, type FlushEventArgs, type TransactionEventArgs, type UnitOfWork } from '@mikro-orm/core';
import { addCacheTags, currentScope } from '../core/tracking-scope.js';
import { tagsFor } from '../decorators/cache-tags.js';
import { TagComputation, mergeOrmOptions, resolveOrmOptions, type CacheTagsOrmOptions, type ResolvedOrmOptions, type TagFunctionFailure } from '../orm/index.js';
import { coverCollectionInit, heldCollectionTags, linkCollectionTags } from './collections.js';
import { coverLoadDispatch } from './load-dispatch.js';
import { cascadeTags, relatedTags } from './row-queries.js';
import { insertedRow } from './query-cache-fields.js';
import { entityShaped, holdsForeignKey, tagsOfRows, type Row } from './rows.js';
import { WriteRecorder, type MikroOrmWriteSource } from './write-recorder.js';

/**
 * Options of {@link CacheTagsSubscriber}, {@link defineCacheTagsConfig} and `installCacheTags`: the
 * options every ORM integration takes.
 * @public
 */
export type CacheTagsSubscriberOptions = CacheTagsOrmOptions;

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
  private readonly preWrite = new WeakMap<UnitOfWork, { tags: string[]; computation: TagComputation }>();
  /** Flushes in a transaction of their own whose tags were recorded before its commit (to be held), not to be recorded again after it. */
  private readonly recordedAtCommit = new WeakSet<UnitOfWork>();
  /** The transaction a savepoint is being started in, per entity manager starting it. */
  private readonly startingIn = new WeakMap<EntityManager, object>();

  /** The options in force (defaults applied). */
  options: ResolvedOrmOptions;

  /** @throws CacheTagsError `E_INVALID_OPTION` naming the option that is wrong. */
  constructor(options: CacheTagsSubscriberOptions = {}) {
    this.options = resolveOrmOptions('CacheTagsSubscriber', options);
    this.recorder = new WriteRecorder(this.options.cache, this.options.logger);
    coverCollectionInit((owner) => subscribersOf(helper(owner).__em).some((s) => s.options.trackLoads));
    coverLoadDispatch((s) => s instanceof CacheTagsSubscriber);
  }

  /** Switches to the options given (checked as by the constructor); options not given keep their current values. */
  configure(options: CacheTagsOrmOptions, where = 'CacheTagsSubscriber.configure'): void {
    this.options = mergeOrmOptions(where, this.options, options);
    this.recorder.cache = this.options.cache;
    this.recorder.logger = this.options.logger;
  }

  /** Tracked loads (see {@link CacheTagsOrmOptions.trackLoads}). */
  onLoad({ entity, meta }: EventArgs<object>): void {
    if (!this.options.trackLoads || !currentScope()) return;
    addCacheTags(...heldCollectionTags(entity, meta));
    if (fullyLoaded(entity, meta)) addCacheTags(...tagsFor(entity, meta.class as never));
  }

  async onFlush(args: FlushEventArgs): Promise<void> {
    // A unit of work serves every flush of its entity manager: a mark left by one whose commit failed must not skip this one.
    this.recordedAtCommit.delete(args.uow);
    const computation = new TagComputation();
    this.preWrite.set(args.uow, { tags: await computation.run(() => this.tagsBeforeWrite(args)), computation });
  }

  private async tagsBeforeWrite({ em, uow }: FlushEventArgs): Promise<string[]> {
    const changeSets = uow.getChangeSets();
    const created = new Set(changeSets.filter((cs) => cs.type === ChangeSetType.CREATE).map((cs) => cs.entity));
    const tags: string[] = [];
    // Links are diffed here: the commit replaces the snapshots. New rows get their tags from their own change sets.
    for (const coll of manyToManyUpdates(uow)) {
      if (!created.has(coll.owner)) tags.push(...tagsOfRows(metaOf(coll.owner), [coll.owner as Row]));
      tags.push(...tagsOfRows(coll.property.targetMeta!, changedLinks(coll).filter((item) => !created.has(item)) as Row[]));
      tags.push(...linkCollectionTags(coll.owner, coll.property, coll.getSnapshot() === undefined ? undefined : changedLinks(coll)));
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
    for (const [meta, rows] of deleted) tags.push(...tagsOfRows(meta, rows), ...(await cascadeTags(em, meta, rows, this.options.cascadeDepth)));
    return tags;
  }

  afterFlush({ em, uow }: FlushEventArgs): Promise<void> | undefined {
    if (this.recordedAtCommit.delete(uow)) return undefined;
    return this.recordFlush(uow, transactionOf(em));
  }

  /** Records the tags of the flush of `uow` in `trx` (at once outside a transaction); its rows are written. */
  private async recordFlush(uow: UnitOfWork, trx: object | undefined): Promise<void> {
    const { tags: preWrite = [], computation = new TagComputation() } = this.preWrite.get(uow) ?? {};
    this.preWrite.delete(uow);
    const tags = new Set(preWrite);
    computation.run(() => {
      for (const cs of uow.getChangeSets()) {
        if (cs.type === ChangeSetType.DELETE) continue;
        const created = cs.type === ChangeSetType.CREATE;
        const old = created ? undefined : oldRow(cs);
        const before = old && entityShaped(cs.meta, old);
        for (const tag of tagsOfRows(cs.meta, [before, created ? insertedRow(cs.meta, cs.entity as Row) : (cs.entity as Row)])) tags.add(tag);
      }
    });
    await this.recorder.record(trx, [...tags], { orm: 'mikro-orm', operation: 'flush' }, computation.failures);
  }

  /*
   * MikroORM 7 starts a savepoint with these two events, on one entity manager: the first carries
   * the enclosing transaction, the second the savepoint. (6 fires them for root transactions only.)
   */
  beforeTransactionStart({ em, transaction }: TransactionEventArgs): void {
    if (transaction) this.startingIn.set(em, transaction);
  }

  afterTransactionStart({ em, transaction }: TransactionEventArgs): void {
    const parent = this.startingIn.get(em);
    this.startingIn.delete(em);
    if (parent && transaction) this.recorder.savepointStarted(transaction, parent);
  }

  /*
   * A flush in a transaction of its own (its unit of work between onFlush and afterFlush) has
   * written its rows by now: its tags are recorded in that transaction, so that they are held with
   * the rest before the commit is sent.
   */
  async beforeTransactionCommit({ transaction, uow }: TransactionEventArgs): Promise<void> {
    if (uow && transaction && this.preWrite.has(uow)) {
      await this.recordFlush(uow, transaction);
      this.recordedAtCommit.add(uow);
    }
    this.recorder.transactionCommitting(transaction);
  }

  afterTransactionCommit({ transaction }: TransactionEventArgs): Promise<void> | undefined {
    return this.recorder.transactionEnded(transaction, 'commit');
  }

  afterTransactionRollback({ transaction }: TransactionEventArgs): Promise<void> | undefined {
    return this.recorder.transactionEnded(transaction, 'rollback');
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
export async function recordWrite(
  subscribers: CacheTagsSubscriber[],
  trx: object | undefined,
  tags: string[],
  source: MikroOrmWriteSource,
  failures: readonly TagFunctionFailure[] = [],
): Promise<void> {
  const invalidations = subscribers.map((s) => s.recorder.record(trx, tags, source, failures));
  await Promise.all(invalidations.filter((invalidation) => invalidation !== undefined));
}

/** The option of the subscribers of one write that the write follows: the strictest one wins. */
export function optionOf(subscribers: CacheTagsSubscriber[], name: 'cascadeDepth' | 'maxRowsPerWrite'): number {
  return name === 'cascadeDepth' ? Math.max(...subscribers.map((s) => s.options.cascadeDepth)) : Math.min(...subscribers.map((s) => s.options.maxRowsPerWrite));
}

import type { DataSource, QueryRunner } from 'typeorm';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata.js';
import { RelationLoader } from 'typeorm/query-builder/RelationLoader.js';
import { addCacheTags, currentScope } from '../core/tracking-scope.js';
import { lazyCollectionTags } from './collections.js';
import { SUBSCRIBER_BRAND, type BrandedSubscriber } from './write-context.js';

/*
 * A lazy relation (`comments: Promise<Comment[]>`) loads through the DataSource's RelationLoader
 * when it is first awaited, and TypeORM fires no load event for its owner then: the loader is
 * wrapped so that a to-many collection loaded lazily inside a cached computation adds its
 * collection tag, as one loaded with `relations` does (docs/orm-contract.md, "Collection tags").
 * Process-wide (a prototype), marked module-locally like the query-builder hooks: each copy of this
 * module serves its own subscribers.
 */
const INSTALLED = Symbol('cache-tags typeorm lazy loads');

type Load = (relation: RelationMetadata, entities: object | object[], queryRunner?: QueryRunner, ...rest: unknown[]) => Promise<unknown>;

function tracks(loader: { dataSource?: DataSource; connection?: DataSource }): boolean {
  const subscribers = (loader.dataSource ?? loader.connection)?.subscribers ?? [];
  return subscribers.some((s) => (s as Partial<BrandedSubscriber>)[SUBSCRIBER_BRAND] === true && (s as BrandedSubscriber).options.trackLoads);
}

/** Wraps `RelationLoader.load` once per process (idempotent). */
export function installLazyLoadHook(): void {
  const proto = RelationLoader.prototype as unknown as { load: Load } & Record<symbol, boolean>;
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  const original = proto.load;
  proto.load = function load(this: { dataSource?: DataSource; connection?: DataSource }, relation, entities, ...rest) {
    if (currentScope() && tracks(this)) {
      const tags = lazyCollectionTags(relation, ([] as object[]).concat(entities));
      if (tags.length) addCacheTags(...tags);
    }
    return original.call(this, relation, entities, ...rest);
  };
}

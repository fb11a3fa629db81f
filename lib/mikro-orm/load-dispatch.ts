import { EventManager, EventType, type EntityMetadata, type EventSubscriber } from '@mikro-orm/core';
import { currentScope } from '../core/tracking-scope.js';

/*
 * MikroORM awaits an `onLoad` dispatch for every entity it loads as long as any subscriber listens
 * for `onLoad`, and caches that answer per entity: with the cache-tags subscriber registered, every
 * load paid for it, inside a cached computation or not (a 100-row find: about 1.15×). Tracked loads
 * matter only inside a computation, so outside one, when cache-tags is the only listener (no other
 * subscriber with `onLoad`, no `@OnLoad` hook on the entity), the dispatch is skipped: such a load
 * costs what it costs without cache-tags. The entity is then not marked as having had its `onLoad`,
 * exactly as with no listener at all, so a later read of it inside a computation still tracks it.
 * Process-wide (a prototype), marked module-locally: each copy of this module answers for its own
 * subscribers.
 */
const HOOKED = Symbol('cache-tags mikro-orm load dispatch');

type HasListeners = (this: EventManager, event: EventType, meta: EntityMetadata) => boolean;

/** Skips `onLoad` dispatches outside cached computations that only `isOurs` subscribers would receive. Idempotent. */
export function coverLoadDispatch(isOurs: (subscriber: EventSubscriber) => boolean): void {
  const proto = EventManager.prototype as unknown as { hasListeners: HasListeners } & Record<symbol, boolean>;
  if (proto[HOOKED]) return;
  proto[HOOKED] = true;
  const original = proto.hasListeners as HasListeners | undefined;
  // A MikroORM whose event manager has another shape keeps dispatching as it does.
  if (typeof original !== 'function' || typeof EventManager.prototype.getSubscribers !== 'function') return;
  proto.hasListeners = function hasListeners(this: EventManager, event: EventType, meta: EntityMetadata): boolean {
    if (event !== EventType.onLoad || currentScope() || meta.hooks?.onLoad?.length) return original.call(this, event, meta);
    for (const subscriber of this.getSubscribers()) {
      if ('onLoad' in subscriber && !isOurs(subscriber)) return original.call(this, event, meta);
    }
    return false;
  };
}

import { heldStore } from '../../lib/core/store-selection.js';
import type { TagCache } from '../../lib/index.js';

/**
 * The store behind a cache's Keyv, found by shape, so that a test reads it the same on keyv 5
 * (`keyv.store`) and keyv 6 (which wraps a store of another major in an adapter of its own).
 */
export async function storeOf<T>(cache: TagCache): Promise<T> {
  return heldStore(await cache.store()) as T;
}

import { randomUUID } from 'node:crypto';
import { TagCache, type TagCacheOptions } from '../../lib/index.js';
import { REDIS_URL, needs } from './servers.js';

/** A store a suite runs against: the in-process default, and real Redis through @keyv/redis. */
export interface StoreCase {
  name: string;
  skip: string | false;
  /** A cache on this store, in a namespace of its own, so suites never see each other's keys. */
  make(options?: TagCacheOptions): TagCache;
}

export const storeCases: StoreCase[] = [
  { name: 'memory', skip: false, make: (options) => new TagCache({ namespace: `t-${randomUUID()}`, ...options }) },
  { name: 'redis', ...needs('redis'), make: (options) => new TagCache({ store: REDIS_URL, namespace: `t-${randomUUID()}`, ...options }) },
];

/** A promise to await inside a computation, and the function that releases it. */
export function barrier(): { wait: Promise<void>; release: () => void; reached: Promise<void>; arrive: () => void } {
  let release!: () => void;
  let arrive!: () => void;
  const wait = new Promise<void>((r) => (release = r));
  const reached = new Promise<void>((r) => (arrive = r));
  return { wait, release, reached, arrive };
}

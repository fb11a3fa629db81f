import type { TypedEmitter } from './events.js';
import type { KeyBuilder } from './keys.js';
import type { Log } from './log.js';
import type { NearCache } from './near-cache.js';
import type { PendingInvalidations } from './pending-invalidations.js';
import type { RememberedTags } from './remembered-tags.js';
import type { Serializer } from './serializer.js';
import type { CacheCounters } from './stats.js';
import type { StoreGateway } from './store-gateway.js';
import type { TagVersions } from './tag-versions.js';

/** The parts of one cache that its read path and write path share. */
export interface CacheParts {
  /** Identifies the cache in tracking scopes: versions of another cache are learned by name only. */
  readonly owner: object;
  readonly namespace: string;
  readonly keys: KeyBuilder;
  readonly gateway: StoreGateway;
  readonly versions: TagVersions;
  /** The in-process tier in front of the store (`nearCache` option). */
  readonly near: NearCache | undefined;
  readonly events: TypedEmitter;
  readonly pending: PendingInvalidations;
  readonly remembered: RememberedTags;
  readonly serializer: Serializer;
  /** What {@link TagCache.stats} reads. */
  readonly counters: CacheCounters;
  /** The user's logger, every level callable. */
  readonly log: Log;
  /** Reports a failure the cache worked around (its counter, logger `warn`, `error` event). */
  readonly report: (operation: string, error: unknown) => void;
}

/** What is stored under an entry key. */
export interface StoredEntry {
  /** The serialized value. */
  v: unknown;
  /** The tag versions the value was computed under. */
  t: Record<string, string>;
  /** When the computation started (ms since epoch), for people reading the store. */
  a: number;
}

export function isStoredEntry(value: unknown): value is StoredEntry {
  return typeof value === 'object' && value !== null && 'v' in value && typeof (value as StoredEntry).t === 'object' && (value as StoredEntry).t !== null;
}

/** The result of one lookup or computation, as the callers of a single flight share it. */
export interface Outcome {
  value: unknown;
  /** Tags of the value with the versions it is valid under (`undefined`: version unknown). */
  versions: Readonly<Record<string, string | undefined>>;
  /** Whether the store answered and every version is known, so that a later caller may verify and reuse it. */
  verifiable: boolean;
  /** Whether the value was computed by the source (not served from the store). */
  computed: boolean;
}

export function unique(tags: readonly string[]): string[] {
  return tags.length < 2 ? [...tags] : [...new Set(tags)];
}

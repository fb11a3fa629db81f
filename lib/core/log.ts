import type { CacheTagsLogger } from './options.js';

type Line = (message: string, ...meta: unknown[]) => void;

/** A {@link CacheTagsLogger} with every level callable. */
export interface Log {
  readonly debug: Line;
  readonly info: Line;
  readonly warn: Line;
  readonly error: Line;
  /** Whether `debug` reaches a logger: a caller skips building a message nobody reads. */
  readonly debugs: boolean;
}

const silent: Line = () => undefined;

/**
 * The levels of a user's logger, resolved once. `error` falls back to `warn`, so that a logger with
 * `warn` alone still hears every problem; `info` and `debug` have no fallback: a logger that takes
 * only warnings asked for warnings and worse, and would read a recovery or a miss as one.
 */
export function levels(logger: CacheTagsLogger | undefined): Log {
  if (!logger) return { debug: silent, info: silent, warn: silent, error: silent, debugs: false };
  const warn = logger.warn.bind(logger);
  const debug = logger.debug?.bind(logger);
  return { debug: debug ?? silent, info: logger.info?.bind(logger) ?? silent, warn, error: logger.error?.bind(logger) ?? warn, debugs: debug !== undefined };
}

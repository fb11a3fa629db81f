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
  const at = (line: Line | undefined): Line | undefined => line?.bind(logger);
  const warn = at(logger.warn) ?? silent;
  const debug = at(logger.debug);
  return { debug: debug ?? silent, info: at(logger.info) ?? silent, warn, error: at(logger.error) ?? warn, debugs: debug !== undefined };
}

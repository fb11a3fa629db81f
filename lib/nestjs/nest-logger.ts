import { Logger } from '@nestjs/common';
import type { CacheTagsLogger } from '../core/tag-cache.js';

/** What an error or other detail passed to the logger reads as in one Nest log line. */
function detail(meta: unknown[]): string {
  return meta.map((m) => (m instanceof Error ? `${m.name}: ${m.message}` : typeof m === 'string' ? m : JSON.stringify(m))).join('; ');
}

/**
 * The cache logger of the Nest module: Nest's `Logger`, so that `logger: false`, custom loggers and
 * log levels of the application apply. Nest reads a trailing string argument as the context, so
 * details are joined into the message.
 */
export function nestCacheLogger(context = 'CacheTags'): CacheTagsLogger {
  const logger = new Logger(context);
  const line = (message: string, meta: unknown[]) => (meta.length === 0 ? message : `${message} (${detail(meta)})`);
  return {
    warn: (message, ...meta) => logger.warn(line(message, meta)),
    error: (message, ...meta) => {
      const error = meta.find((m): m is Error => m instanceof Error);
      logger.error(line(message, meta), error?.stack);
    },
    info: (message, ...meta) => logger.log(line(message, meta)),
    debug: (message, ...meta) => logger.debug(line(message, meta)),
  };
}

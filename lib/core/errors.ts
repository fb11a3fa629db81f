/**
 * Stable machine-readable codes of every error cache-tags throws.
 * @public
 */
export type CacheTagsErrorCode =
  | 'E_INVALID_OPTION'
  | 'E_INVALID_TAG'
  | 'E_INVALID_KEY'
  | 'E_UNENCODABLE_ARGUMENT'
  | 'E_UNSERIALIZABLE_VALUE'
  | 'E_DECORATOR_TARGET'
  | 'E_UNKNOWN_CACHE'
  | 'E_DUPLICATE_CLASS'
  | 'E_STORE_UNAVAILABLE'
  | 'E_STORE_TIMEOUT'
  | 'E_MISSING_PEER'
  | 'E_INVALIDATION_PENDING';

/**
 * The one error class cache-tags throws. `code` is stable across versions; the message names the
 * class, method, option or argument that was wrong.
 * @public
 */
export class CacheTagsError extends Error {
  override readonly name = 'CacheTagsError';

  constructor(
    /** Stable code, safe to branch on. */
    readonly code: CacheTagsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

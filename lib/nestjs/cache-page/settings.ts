import { CacheTagsError } from '../../core/errors.js';
import { describe } from '../../core/tracking-scope.js';

/** The module-wide settings of `@CachePage`, from the `CacheTagsModule` options. */
export class CachePageSettings {
  /** Name of the header that says `HIT` or `MISS`, or `false` for none. */
  readonly header: string | false;

  constructor(header: string | false = 'X-Cache') {
    // An HTTP field name (RFC 9110 token): anything else would make every cached response fail.
    if (header !== false && (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))) {
      throw new CacheTagsError('E_INVALID_OPTION', `CacheTagsModule: option cachePageHeader must be a header name or false, got ${describe(header)}`);
    }
    this.header = header;
  }
}

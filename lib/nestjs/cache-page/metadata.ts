/** Metadata key of the `@CachePage` options on a handler or controller. */
export const CACHE_PAGE_OPTIONS = 'cache-tags:cache-page';

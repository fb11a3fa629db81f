export { tagsOfChange, typeTagsOf } from './change-tags.js';
export { WriteInvalidator, type WriteFailures } from './write-invalidator.js';
export { TagComputation, collectTagFailures, takeTagFailures, type TagFunctionFailure } from './tag-failures.js';
export { isWrittenTable, writeTargetTable } from './raw-sql.js';
export { mergeOrmOptions, resolveOrmOptions, type CacheTagsOrmOptions, type ResolvedOrmOptions } from './options.js';
export { checkInvalidateArguments, notInstalled, unknownEntity } from './invalidate-arguments.js';
export { isMikroOrm, isTypeOrmDataSource } from './detect.js';
export { collectionTag, loadedCollectionTags, relationTag } from './collection-tags.js';

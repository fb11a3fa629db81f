export { tagsOfChange, typeTagsOf } from './change-tags.js';
export { WriteInvalidator } from './write-invalidator.js';
export { isWrittenTable, writeTargetTable } from './raw-sql.js';

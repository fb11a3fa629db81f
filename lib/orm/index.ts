export { tagsOfChange, typeTagsOf } from './change-tags.js';
export { TransactionBuffers } from './transaction-buffers.js';
export { writeTargetTable } from './raw-sql.js';

// Preload that runs the suites against TypeORM 0.3 (installed as the alias `typeorm03`): every
// require of `typeorm` or `typeorm/...`, from the library, the tests or @nestjs/typeorm, resolves to it.
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const redirected = request === 'typeorm' || request.startsWith('typeorm/') ? `typeorm03${request.slice('typeorm'.length)}` : request;
  return resolve.call(this, redirected, ...rest);
};

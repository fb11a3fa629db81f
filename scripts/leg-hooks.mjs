// ESM resolve hook of scripts/leg-preload.mjs: the leg's packages resolve from the leg's folder.
let parentURL;
let names = [];

export function initialize(data) {
  ({ parentURL, names } = data);
}

const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

export function resolve(specifier, context, next) {
  return names.includes(packageOf(specifier)) ? next(specifier, { ...context, parentURL }) : next(specifier, context);
}

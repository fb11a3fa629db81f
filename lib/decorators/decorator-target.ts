/*
 * Both decorator flavours in one place: TypeScript's legacy `experimentalDecorators` call a method
 * decorator as (prototype, name, descriptor) and a class decorator as (constructor); TC39 standard
 * decorators call both as (value, context) with a `context.kind`.
 */

/** The TC39 decorator context, as far as cache-tags reads it. */
export interface StandardContext {
  kind: string;
  name: string | symbol | undefined;
  static?: boolean;
}

export function isStandardContext(value: unknown): value is StandardContext {
  return typeof value === 'object' && value !== null && 'kind' in value && typeof (value as StandardContext).kind === 'string';
}

/** Printable name of a property key. */
export function nameOf(key: string | symbol | undefined): string {
  if (key === undefined) return '<anonymous>';
  return typeof key === 'symbol' ? `[${key.description ?? 'symbol'}]` : key;
}

/*
 * What an object's own enumerable properties do not show: built-ins keep their state in internal
 * slots, and `#private` fields are invisible to reflection. Key encoding and serialization both
 * refuse such values rather than treat two different ones alike.
 */

const nativeClasses = new WeakMap<Function, boolean>();
const privateClasses = new WeakMap<Function, boolean>();

function sourceOf(fn: Function): string {
  return Function.prototype.toString.call(fn);
}

/** The constructors of `obj`'s prototype chain, nearest first, `Object` excluded. */
function constructorsOf(obj: object): Function[] {
  const out: Function[] = [];
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const ctor = Object.prototype.hasOwnProperty.call(p, 'constructor') ? (p as { constructor: unknown }).constructor : undefined;
    if (typeof ctor === 'function') out.push(ctor);
  }
  return out;
}

function memo(cache: WeakMap<Function, boolean>, fn: Function, test: (source: string) => boolean): boolean {
  let known = cache.get(fn);
  if (known === undefined) {
    known = test(sourceOf(fn));
    cache.set(fn, known);
  }
  return known;
}

/** Whether `obj` is (or extends) a built-in other than `Object`, such as `Promise`, `WeakMap` or `Error`. */
export function isNativeInstance(obj: object): boolean {
  return constructorsOf(obj).some((c) => memo(nativeClasses, c, (s) => /\{\s*\[native code\]\s*\}\s*$/.test(s)));
}

/**
 * Whether a class of `obj`'s prototype chain declares `#private` members (as written in its
 * source; fields that a compiler lowered to WeakMaps cannot be seen).
 */
export function usesPrivateFields(obj: object): boolean {
  // Private members are only ever reached as `x.#name` or tested as `#name in x`; a `#` in a
  // string or comment ("#fff", "see #12") is neither.
  return constructorsOf(obj).some((c) => memo(privateClasses, c, (s) => /^class\b/.test(s) && /\.#[A-Za-z_$]|#[A-Za-z_$][\w$]*\s+in\s/.test(s)));
}

/** "an instance of Name", for messages. */
export function describeInstance(obj: object): string {
  const name = (Object.getPrototypeOf(obj)?.constructor as { name?: string } | undefined)?.name;
  return name ? `an instance of ${name}` : 'an instance of an anonymous class';
}

import { CacheTagsError } from './errors.js';
import { omittedFieldsOf, serializableClassNamed, serializableNameOf } from './class-registry.js';
import { describeInstance, isNativeInstance, usesPrivateFields } from './value-kinds.js';

/**
 * Turns cached values into JSON-safe data and back. The store's own serialization (Keyv's JSON)
 * then only ever sees plain JSON. `deserialize` is given data freshly parsed from the store's text,
 * which it may change and return.
 * @public
 */
export interface Serializer {
  /** Returns a JSON-safe representation of `value`; throws if it cannot. */
  serialize(value: unknown): unknown;
  /** Inverse of {@link Serializer.serialize}. */
  deserialize(data: unknown): unknown;
}

/*
 * Encoding: JSON values stand for themselves; everything JSON cannot hold becomes an object
 * `{ $ct: <kind>, ... }`. A plain object that itself has a `$ct` key is wrapped as kind 'o', so no
 * user data is mistaken for a marker. A top-level object or array is wrapped as kind 'P' with the
 * paths of its markers (those not inside another marker): decoding a hit then revives only those,
 * instead of visiting every object and array of the value (most of a hit's decoding time beyond
 * JSON.parse). A value with more markers than MAX_MARKS, or stored without the wrapper, is walked.
 */
const MARK = '$ct';
const MAX_MARKS = 64;

type Encoded = null | boolean | number | string | Encoded[] | { [key: string]: Encoded };

type PathKey = string | number;

/** Where the markers of a value sit, while it is encoded: `trail` is the path of the value being encoded. */
interface Marks {
  at: PathKey[][];
  trail: PathKey[];
}

function isMarker(encoded: Encoded): boolean {
  return typeof encoded === 'object' && encoded !== null && !Array.isArray(encoded) && MARK in encoded;
}

/** Values nested deeper than this are refused, before the encoder could overflow the stack. */
const MAX_DEPTH = 1000;

class Unserializable extends Error {
  constructor(readonly what: string, readonly path: string, readonly advice = '') {
    super(what);
  }
}

function bytesOf(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

/** Encodes `value`; `marks`, when given, collects where its markers sit (none inside a marker is noted). */
function encodeAt(value: unknown, path: string, seen: Set<object>, depth: number, marks?: Marks): Encoded {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [MARK]: 'n', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'undefined':
      return { [MARK]: 'u' };
    case 'bigint':
      return { [MARK]: 'b', v: value.toString() };
    case 'function':
      throw new Unserializable('a function', path);
    case 'symbol':
      throw new Unserializable('a symbol', path);
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) throw new Unserializable('a circular reference', path);
  if (depth >= MAX_DEPTH) throw new Unserializable(`data nested more than ${MAX_DEPTH} levels deep`, path.slice(0, 80));
  seen.add(obj);
  try {
    return encodeObject(obj, path, seen, depth + 1, marks);
  } finally {
    seen.delete(obj);
  }
}

/** A child of a plain object or array, at `key`; notes its path when it became a marker. */
function encodeChild(value: unknown, key: PathKey, path: string, seen: Set<object>, depth: number, marks: Marks | undefined): Encoded {
  if (!marks) return encodeAt(value, path, seen, depth);
  marks.trail.push(key);
  const encoded = encodeAt(value, path, seen, depth, marks);
  if (marks.at.length <= MAX_MARKS && isMarker(encoded)) marks.at.push(marks.trail.slice());
  marks.trail.pop();
  return encoded;
}

function encodeObject(obj: object, path: string, seen: Set<object>, depth: number, marks: Marks | undefined): Encoded {
  if (Array.isArray(obj)) return obj.map((v, i) => encodeChild(v, i, `${path}[${i}]`, seen, depth, marks));
  const proto = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) {
    const before = marks?.at.length ?? 0;
    const fields = encodeFields(obj, path, seen, depth, undefined, marks);
    if (!(MARK in fields)) return fields;
    // Now inside a marker, revived with it: its own markers are not noted apart.
    if (marks) marks.at.length = Math.min(marks.at.length, before);
    return { [MARK]: 'o', v: fields };
  }
  if (obj instanceof Date) return { [MARK]: 'D', v: Number.isNaN(obj.getTime()) ? null : obj.getTime() };
  if (obj instanceof Map) {
    return { [MARK]: 'M', v: [...obj].map(([k, v], i) => [encodeAt(k, `${path}<key ${i}>`, seen, depth), encodeAt(v, `${path}<value ${i}>`, seen, depth)]) };
  }
  if (obj instanceof Set) return { [MARK]: 'S', v: [...obj].map((v, i) => encodeAt(v, `${path}<item ${i}>`, seen, depth)) };
  if (Buffer.isBuffer(obj)) return { [MARK]: 'B', v: bytesOf(obj) };
  if (ArrayBuffer.isView(obj) && obj.constructor.name in TYPED_ARRAYS) {
    return { [MARK]: 'T', c: obj.constructor.name, v: bytesOf(obj) };
  }
  if (obj instanceof ArrayBuffer) return { [MARK]: 'A', v: Buffer.from(obj).toString('base64') };
  if (obj instanceof RegExp) return { [MARK]: 'R', v: obj.source, f: obj.flags };
  return encodeInstance(obj, proto.constructor, path, seen, depth);
}

/** An instance of a class: revived by its registered name, with its own fields. */
function encodeInstance(obj: object, cls: Function, path: string, seen: Set<object>, depth: number): Encoded {
  const name = serializableNameOf(cls);
  if (isNativeInstance(obj)) throw new Unserializable(`${describeInstance(obj)}, a built-in whose state is internal`, path, 'cache plain data taken from it');
  if (usesPrivateFields(obj)) {
    throw new Unserializable(`${describeInstance(obj)}, whose class has #private fields a cached copy cannot hold`, path, 'cache a plain object or a class without #private fields');
  }
  if (name === undefined) {
    const what = describeInstance(obj);
    if (typeof (obj as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
      // A collection wrapper (an ORM's lazy collection, say) is not data of its own: registering it would not help.
      throw new Unserializable(
        `${what}, an iterable wrapper whose items are not its own fields`,
        path,
        'cache plain data instead: its items as an array, or for an ORM entity its plain object form (toObject(), a DTO)',
      );
    }
    const cls = what.replace(/^an instance of /, '');
    throw new Unserializable(
      `${what}, which is not registered for caching`,
      path,
      `decorate it with @CacheTags, call registerSerializableClass(${cls}), or register a module of DTO classes at once with registerSerializableClasses(dtos)`,
    );
  }
  return { [MARK]: 'C', c: name, v: encodeFields(obj, path, seen, depth, omittedFieldsOf(cls)) };
}

function encodeFields(obj: object, path: string, seen: Set<object>, depth: number, omit?: ReadonlySet<string>, marks?: Marks): { [key: string]: Encoded } {
  const out: { [key: string]: Encoded } = {};
  for (const key of Object.keys(obj)) {
    if (omit?.has(key)) continue;
    out[key] = encodeChild((obj as Record<string, unknown>)[key], key, `${path}.${key}`, seen, depth, marks);
  }
  return out;
}

/*
 * Decoding revives in place: what it is given was just parsed from the store's text, so nothing
 * else holds it, and copying every plain object and array again would double the cost of a hit.
 */
function decode(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      const item: unknown = data[i];
      if (item !== null && typeof item === 'object') data[i] = decode(item);
    }
    return data;
  }
  const obj = data as Record<string, any>;
  const kind = obj[MARK] as string | undefined;
  if (kind === undefined) return decodePlain(obj);
  switch (kind) {
    case 'P': return reviveAt(obj.v, obj.at);
    case 'o': return decodePlain(obj.v);
    case 'u': return undefined;
    case 'n': return obj.v === '-0' ? -0 : Number(obj.v);
    case 'b': return BigInt(obj.v);
    case 'D': return new Date(obj.v ?? NaN);
    case 'M': return new Map((obj.v as unknown[][]).map(([k, v]) => [decode(k), decode(v)]));
    case 'S': return new Set((obj.v as unknown[]).map(decode));
    case 'B': return Buffer.from(obj.v, 'base64');
    case 'T': {
      const bytes = Buffer.from(obj.v, 'base64');
      const copy = new Uint8Array(bytes).buffer; // aligned copy: typed arrays need offset % size === 0
      return new TYPED_ARRAYS[obj.c as string](copy);
    }
    case 'A': return new Uint8Array(Buffer.from(obj.v, 'base64')).buffer;
    case 'R': return new RegExp(obj.v, obj.f);
    case 'C': {
      const cls = serializableClassNamed(obj.c);
      if (!cls) {
        throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', `A cached value holds an instance of "${obj.c}", which is not registered for caching in this process`);
      }
      return decodeFields(obj.v, Object.create(cls.prototype));
    }
    default:
      throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', `A cached value has an unknown type marker "${String(kind)}"`);
  }
}

/**
 * Revives the markers at the paths `at` of `root` (see MAX_MARKS). A path that does not lead to a
 * marker through own properties throws: a damaged row is a miss, and never writes elsewhere.
 */
function reviveAt(root: unknown, at: unknown): unknown {
  if (!Array.isArray(at)) throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', 'A cached value has a malformed list of markers');
  for (const path of at as unknown[]) {
    if (!Array.isArray(path) || path.length === 0) throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', 'A cached value has a malformed marker path');
    let parent = root;
    for (let i = 0; i < path.length - 1; i++) parent = ownChild(parent, path[i]);
    const key = path[path.length - 1] as PathKey;
    const marker = ownChild(parent, key);
    if (!isMarker(marker as Encoded)) throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', 'A cached value has a marker path that leads to no marker');
    setOwn(parent as Record<PathKey, unknown>, key, decode(marker));
  }
  return root;
}

function ownChild(parent: unknown, key: unknown): unknown {
  if (typeof parent !== 'object' || parent === null || (typeof key !== 'string' && typeof key !== 'number') || !Object.prototype.hasOwnProperty.call(parent, key)) {
    throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', 'A cached value has a marker path that leads nowhere');
  }
  return (parent as Record<PathKey, unknown>)[key];
}

function setOwn(target: Record<PathKey, unknown>, key: PathKey, value: unknown): void {
  // Assignment to "__proto__" would set the prototype instead of a property.
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

function decodePlain(fields: Record<string, unknown>): object {
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === null || typeof value !== 'object') continue;
    const decoded = decode(value);
    if (decoded !== value) setOwn(fields, key, decoded);
  }
  return fields;
}

function decodeFields(fields: Record<string, unknown>, target: object): object {
  // defineProperty, not assignment: a setter on a revived class's prototype must not run.
  for (const key of Object.keys(fields)) {
    Object.defineProperty(target, key, { value: decode(fields[key]), writable: true, enumerable: true, configurable: true });
  }
  return target;
}

/**
 * The default serializer: keeps Date, BigInt, Map, Set, Buffer, typed arrays, ArrayBuffer, RegExp,
 * `undefined`, NaN/±Infinity/-0, and instances of registered classes (less their omitted fields).
 * Throws a {@link CacheTagsError} naming the path of a value it cannot keep (function, symbol,
 * circular or too deep data, unregistered class, built-in with internal state, `#private` fields).
 * @public
 */
export const defaultSerializer: Serializer = {
  serialize(value: unknown): unknown {
    const marks: Marks = { at: [], trail: [] };
    const encoded = encodeAt(value, '', new Set(), 0, marks);
    if (encoded === null || typeof encoded !== 'object' || isMarker(encoded) || marks.at.length > MAX_MARKS) return encoded;
    return { [MARK]: 'P', at: marks.at, v: encoded };
  },
  deserialize: decode,
};

/** Serializes, turning a failure into an error that names what was being cached and where. */
export function serializeFor(serializer: Serializer, value: unknown, what: string): unknown {
  try {
    return serializer.serialize(value);
  } catch (err) {
    if (err instanceof Unserializable) {
      const at = err.path ? ` at result${err.path}` : '';
      const advice = err.advice ? `: ${err.advice}` : '';
      throw new CacheTagsError('E_UNSERIALIZABLE_VALUE', `${what}: the value to cache holds ${err.what}${at}; it cannot be cached faithfully${advice}`);
    }
    throw err;
  }
}

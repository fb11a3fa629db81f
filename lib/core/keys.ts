import { createHash } from 'node:crypto';
import { CacheTagsError } from './errors.js';

/*
 * Store layout: `<namespace>:e:<key>` for entries, `{<namespace>}:t:<tag>` for tag versions and
 * `{<namespace>}:s` for the namespace's invalidation sequence. Only the namespace is escaped (no
 * `%`, `:`, `{` or `}` survive in it): the kind marker sits at a fixed position after it, and
 * everything after the marker belongs to the key or tag, so no two (namespace, kind, name) inputs
 * can produce the same store key. The braces are a Redis Cluster hash tag: the sequence and every
 * tag version of a namespace share one slot, so the script that bumps the sequence and writes the
 * versions never needs keys from two slots. Entries carry no hash tag and spread over the cluster.
 */

const MAX_PLAIN_LENGTH = 200;

function escapeNamespace(namespace: string): string {
  return namespace.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/\{/g, '%7B').replace(/\}/g, '%7D');
}

/** Builds the store keys of one cache namespace. */
export class KeyBuilder {
  private readonly entryPrefix: string;
  private readonly tagPrefix: string;
  /** The key of the namespace's invalidation sequence. */
  readonly sequence: string;

  constructor(namespace: string) {
    const ns = escapeNamespace(namespace);
    this.entryPrefix = `${ns}:e:`;
    this.tagPrefix = `{${ns}}:t:`;
    this.sequence = `{${ns}}:s`;
  }

  entry(key: string): string {
    return this.entryPrefix + shorten(key);
  }

  tag(tag: string): string {
    return this.tagPrefix + shorten(tag);
  }
}

/** Keeps long names readable but bounded: a prefix plus a hash of the whole. */
function shorten(name: string): string {
  if (name.length <= MAX_PLAIN_LENGTH) return name;
  const digest = createHash('sha256').update(name).digest('base64url');
  // '#' never follows a plain name of this length, so a shortened name cannot equal a plain one.
  return `${name.slice(0, 64)}#${digest}`;
}

/** Thrown inside {@link encodeKeyPart}; the caller adds which argument it was. */
class UnencodableValue extends Error {
  constructor(readonly what: string, readonly path: string) {
    super(what);
  }
}

/**
 * Encodes a value into a stable, injective string for use in a cache key: object keys are sorted,
 * types are marked so that `1` and `"1"` differ, and class instances include their class name.
 * Functions, symbols and circular structures cannot form a key and throw.
 */
export function encodeKeyPart(value: unknown): string {
  return encode(value, '', new Set());
}

function encode(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${value}n`;
    case 'function':
      throw new UnencodableValue('a function', path);
    case 'symbol':
      throw new UnencodableValue('a symbol', path);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) throw new UnencodableValue('a circular reference', path);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return `[${obj.map((v, i) => encode(v, `${path}[${i}]`, seen)).join(',')}]`;
    if (obj instanceof Date) return `Date(${obj.getTime()})`;
    if (obj instanceof Map) {
      const items = [...obj].map(([k, v], i) => [encode(k, `${path}<key ${i}>`, seen), encode(v, `${path}.get(${String(k)})`, seen)]);
      items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return `Map{${items.map(([k, v]) => `${k}=>${v}`).join(',')}}`;
    }
    if (obj instanceof Set) {
      const items = [...obj].map((v, i) => encode(v, `${path}<item ${i}>`, seen)).sort();
      return `Set{${items.join(',')}}`;
    }
    if (ArrayBuffer.isView(obj)) {
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return `${obj.constructor.name}(${bytes.toString('base64')})`;
    }
    if (obj instanceof RegExp) return `RegExp(${JSON.stringify(obj.source)},${obj.flags})`;
    const proto = Object.getPrototypeOf(obj);
    const prefix = proto === Object.prototype || proto === null ? '' : (proto.constructor?.name ?? 'Anonymous');
    const keys = Object.keys(obj).sort();
    const body = keys.map((k) => `${JSON.stringify(k)}:${encode((obj as Record<string, unknown>)[k], `${path}.${k}`, seen)}`);
    return `${prefix}{${body.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Encodes a method's arguments into the key suffix of a `@Cached` call, naming the offending
 * argument when one cannot be encoded.
 */
export function encodeArguments(args: readonly unknown[], where: string): string {
  return args
    .map((arg, index) => {
      try {
        return encodeKeyPart(arg);
      } catch (err) {
        if (err instanceof UnencodableValue) {
          const inside = err.path ? ` (at ${err.path.replace(/^\./, '')})` : '';
          throw new CacheTagsError(
            'E_UNENCODABLE_ARGUMENT',
            `${where}: argument ${index} is ${err.what}${inside}, which cannot form a cache key; pass a \`key\` function to @Cached to build the key yourself`,
          );
        }
        throw err;
      }
    })
    .join(',');
}

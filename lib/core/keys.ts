import { createHash } from 'node:crypto';
import { CacheTagsError } from './errors.js';
import { describeInstance, isNativeInstance, usesPrivateFields } from './value-kinds.js';

/*
 * Store layout: `<namespace>:e:<key>` for entries, `{<namespace>}:t:<tag>` for tag versions,
 * `{<namespace>}:s` for the namespace's invalidation sequence and `<namespace>:l:<key>` for the
 * cross-process lock of an entry's computation. The namespace has its `:`, `{` and
 * `}` escaped, so the kind marker sits at a fixed place and the namespace alone forms the hash tag;
 * the name after the marker is escaped so that it survives a store that keeps UTF-8 (Redis turns
 * every lone surrogate into U+FFFD) and never contains a raw `#`, which only the shortened form of
 * a long name uses. Every escape is reversible, so different (namespace, kind, name) inputs give
 * different store keys. The braces are a Redis Cluster hash tag: the sequence and every tag version
 * of a namespace share one slot, so the script that bumps the sequence and writes the versions
 * never needs keys from two slots. Entries carry no hash tag and spread over the cluster.
 */

const MAX_PLAIN_LENGTH = 200;
const NAME_NEEDS_ESCAPE = /[%#\uD800-\uDFFF]/;
const NAMESPACE_NEEDS_ESCAPE = /[%#:{}\uD800-\uDFFF]/;
const ESCAPED = /[%#]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPED_NAMESPACE = /[%#:{}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '%': '%25', '#': '%23', ':': '%3A', '{': '%7B', '}': '%7D' };

function escapeChar(char: string): string {
  return ESCAPES[char] ?? `%u${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** A well-formed string without raw `%` or `#` (and without `:`, `{`, `}` for a namespace): reversible. */
function escape(name: string, needed: RegExp, pattern: RegExp): string {
  return needed.test(name) ? name.replace(pattern, escapeChar) : name;
}

/**
 * Keeps long names readable but bounded: a prefix plus a hash of the whole. The raw `#` marks the
 * shortened form; an escaped name never contains one, so the two forms never meet.
 */
function shorten(escaped: string): string {
  if (escaped.length <= MAX_PLAIN_LENGTH) return escaped;
  const digest = createHash('sha256').update(escaped).digest('base64url');
  const cut = /[\uD800-\uDBFF]/.test(escaped[63] ?? '') ? 63 : 64; // never split a surrogate pair
  return `${escaped.slice(0, cut)}#${digest}`;
}

/** Builds the store keys of one cache namespace. */
export class KeyBuilder {
  private readonly entryPrefix: string;
  private readonly tagPrefix: string;
  private readonly lockPrefix: string;
  /** The key of the namespace's invalidation sequence. */
  readonly sequence: string;
  /** The pub/sub channel of the namespace's invalidations (a near cache's). */
  readonly channel: string;

  constructor(namespace: string) {
    const ns = escape(namespace, NAMESPACE_NEEDS_ESCAPE, ESCAPED_NAMESPACE);
    this.entryPrefix = `${ns}:e:`;
    this.tagPrefix = `{${ns}}:t:`;
    this.lockPrefix = `${ns}:l:`;
    this.sequence = `{${ns}}:s`;
    this.channel = invalidationChannel(this.sequence);
  }

  entry(key: string): string {
    return this.entryPrefix + shorten(escape(key, NAME_NEEDS_ESCAPE, ESCAPED));
  }

  tag(tag: string): string {
    return this.tagPrefix + shorten(escape(tag, NAME_NEEDS_ESCAPE, ESCAPED));
  }

  /** The lock of the computation of `key`'s entry: no hash tag, so on a cluster it has a slot of its own. */
  lock(key: string): string {
    return this.lockPrefix + shorten(escape(key, NAME_NEEDS_ESCAPE, ESCAPED));
  }
}

/**
 * The pub/sub channel on which the invalidations of the namespace whose sequence key is
 * `sequenceKey` are published (a channel is not a key: it cannot meet one).
 */
export function invalidationChannel(sequenceKey: string): string {
  return `${sequenceKey}:i`;
}

/** Arguments nested deeper than this are refused, before the encoder could overflow the stack. */
const MAX_DEPTH = 256;

/** Thrown inside {@link encodeKeyPart}; the caller adds which argument it was. */
class UnencodableValue extends Error {
  constructor(readonly what: string, readonly path: string, readonly advice = '') {
    super(what);
  }
}

/**
 * Encodes a value into a stable, injective string for use in a cache key: object keys are sorted,
 * types are marked so that `1` and `"1"` differ, class instances include their class name, and
 * values whose state is internal are encoded by what defines them (a URL by its `href`, an
 * instance with `toJSON` by its JSON form). What cannot be encoded faithfully throws: functions,
 * symbols, circular or too deep structures, built-ins with hidden state, classes with `#private`
 * fields.
 */
export function encodeKeyPart(value: unknown): string {
  return encode(value, '', new Set(), 0);
}

function encode(value: unknown, path: string, seen: Set<object>, depth: number): string {
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
  if (depth >= MAX_DEPTH) throw new UnencodableValue(`nested more than ${MAX_DEPTH} levels deep`, path);
  seen.add(obj);
  try {
    return encodeObject(obj, path, seen, depth + 1);
  } finally {
    seen.delete(obj);
  }
}

function encodeObject(obj: object, path: string, seen: Set<object>, depth: number): string {
  if (Array.isArray(obj)) return `[${obj.map((v, i) => encode(v, `${path}[${i}]`, seen, depth)).join(',')}]`;
  if (obj instanceof Date) return `Date(${obj.getTime()})`;
  if (obj instanceof Map) {
    const items = [...obj].map(([k, v], i) => [encode(k, `${path}<key ${i}>`, seen, depth), encode(v, `${path}.get(${String(k)})`, seen, depth)]);
    items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return `Map{${items.map(([k, v]) => `${k}=>${v}`).join(',')}}`;
  }
  if (obj instanceof Set) {
    const items = [...obj].map((v, i) => encode(v, `${path}<item ${i}>`, seen, depth)).sort();
    return `Set{${items.join(',')}}`;
  }
  if (ArrayBuffer.isView(obj)) {
    const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
    return `${obj.constructor.name}(${bytes.toString('base64')})`;
  }
  if (obj instanceof ArrayBuffer) return `ArrayBuffer(${Buffer.from(obj).toString('base64')})`;
  if (obj instanceof RegExp) return `RegExp(${JSON.stringify(obj.source)},${obj.flags})`;
  if (obj instanceof URL) return `URL(${JSON.stringify(obj.href)})`;
  if (obj instanceof URLSearchParams) return `URLSearchParams(${JSON.stringify(obj.toString())})`;
  const proto = Object.getPrototypeOf(obj);
  const plain = proto === Object.prototype || proto === null;
  const prefix = plain ? '' : (proto.constructor?.name ?? 'Anonymous');
  if (!plain && typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    // A value type (decimal, date-time, id) says what defines it through toJSON.
    return `${prefix}(${encode((obj as { toJSON(): unknown }).toJSON(), `${path}.toJSON()`, seen, depth)})`;
  }
  if (!plain && isNativeInstance(obj)) {
    throw new UnencodableValue(`${describeInstance(obj)}, a built-in whose state is internal`, path, 'pass what identifies it (a string or a number) instead');
  }
  if (!plain && usesPrivateFields(obj)) {
    throw new UnencodableValue(`${describeInstance(obj)}, whose class has #private fields the key cannot see`, path, 'give the class a toJSON() that returns what identifies an instance');
  }
  const keys = Object.keys(obj).sort();
  const body = keys.map((k) => `${JSON.stringify(k)}:${encode((obj as Record<string, unknown>)[k], `${path}.${k}`, seen, depth)}`);
  return `${prefix}{${body.join(',')}}`;
}

/** A path for a message: long ones (a deep nesting) keep their start. */
function shownPath(path: string): string {
  const clean = path.replace(/^\./, '');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/**
 * Encodes a method's arguments into the key suffix of a `@Cached` call, naming the offending
 * argument when one cannot be encoded.
 */
export function encodeArguments(args: readonly unknown[], where: string): string {
  return args.map((arg, index) => encodeArgument(arg, `argument ${index}`, where)).join(',');
}

/** Encodes one value that takes part in a key (`what`: "argument 1", "the scope"), or throws naming it. */
export function encodeArgument(value: unknown, what: string, where: string): string {
  try {
    return encodeKeyPart(value);
  } catch (err) {
    if (err instanceof UnencodableValue) {
      const inside = err.path ? ` (at ${shownPath(err.path)})` : '';
      const advice = err.advice ? `: ${err.advice}, or` : ';';
      throw new CacheTagsError(
        'E_UNENCODABLE_ARGUMENT',
        `${where}: ${what} is ${err.what}${inside}, which cannot form a cache key${advice} pass a \`key\` function to @Cached to build the key yourself`,
      );
    }
    throw err;
  }
}

/** A short, stable digest of `text` for keys (72 bits: collisions are not a practical concern). */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 12);
}

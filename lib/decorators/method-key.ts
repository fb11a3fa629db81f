import { CacheTagsError } from '../core/errors.js';
import { encodeArgument, encodeArguments, shortHash } from '../core/keys.js';
import { describe } from '../core/tracking-scope.js';

/*
 * The key of one `@Cached` call. A default key reads
 * `Class.method@<id>{s:<scope>,v:<row version>}(<arguments>)`: the id is a short hash of where the
 * method was declared and of its code version, so two different methods never share an entry and
 * a change to the method starts a fresh key space; the scope and row version (when configured)
 * and the arguments are encoded injectively. A key function's key is the user's own, with the
 * same `{...}` part in front when a scope, row version or explicit code version is configured.
 */

/** What the key of one method is made of, fixed at decoration. */
export interface MethodKeyPlan {
  /** Short hash of the declaration site, method name and code version: the default key's id. */
  id: string;
  /** The explicit code version, if any. */
  codeVersion: string | undefined;
  key: ((...args: any[]) => unknown) | undefined;
  scope: ((self: any) => unknown) | undefined;
  rowVersion: ((...args: any[]) => unknown) | undefined;
}

/**
 * The code version of a method: a short hash of its source and of what else decides what is
 * stored (the tag declaration, the row version function), unless one is given explicitly.
 */
export function codeVersionOf(method: Function, declaration: readonly unknown[], explicit: string | undefined): string {
  if (explicit !== undefined) return `v=${explicit}`;
  const parts = [method, ...declaration].map((part) => (typeof part === 'function' ? Function.prototype.toString.call(part) : JSON.stringify(part ?? null)));
  return shortHash(parts.join('\0'));
}

/** The id of a method's default keys: where it was declared, its name and its code version. */
export function methodId(site: string | undefined, methodName: string, codeVersion: string): string {
  return shortHash([site ?? '', methodName, codeVersion].join('\0'));
}

function extras(plan: MethodKeyPlan, self: unknown, args: readonly unknown[], where: string): string {
  const parts: string[] = [];
  if (plan.key && plan.codeVersion !== undefined) parts.push(`c:${JSON.stringify(plan.codeVersion)}`);
  if (plan.scope) parts.push(`s:${encodeArgument(required(plan.scope(self), 'scope', where), 'the scope', where)}`);
  if (plan.rowVersion) parts.push(`v:${encodeArgument(required(plan.rowVersion(...args), 'rowVersion', where), 'the row version', where)}`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function required(value: unknown, option: string, where: string): unknown {
  if (value === undefined || value === null) {
    throw new CacheTagsError('E_INVALID_KEY', `${where}: option ${option} returned ${describe(value)}; it must say which entry this call reads, so nothing is shared by mistake`);
  }
  return value;
}

/** The logical cache key of one call. */
export function methodKey(plan: MethodKeyPlan, label: string, self: unknown, args: readonly unknown[], where: string): string {
  if (!plan.key) return `${label}@${plan.id}${extras(plan, self, args, where)}(${encodeArguments(args, where)})`;
  const own = plan.key(...args);
  if (typeof own !== 'string' || own.length === 0) {
    throw new CacheTagsError('E_INVALID_KEY', `${where}: the key function must return a non-empty string, got ${describe(own)}`);
  }
  return extras(plan, self, args, where) + own;
}

/*
 * Recognises an ORM instance by its API, never by `instanceof` or `constructor.name`: two copies of
 * an ORM may be loaded, a subclass has another name, and whoever asks (the NestJS module) must not
 * import either ORM to find out.
 */

/** Whether `value` is a TypeORM `DataSource` (0.3 or 1.x). */
export function isTypeOrmDataSource(value: unknown): boolean {
  const v = value as { subscribers?: unknown; createQueryRunner?: unknown; getMetadata?: unknown; entityMetadatas?: unknown } | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.subscribers) && typeof v.createQueryRunner === 'function' && typeof v.getMetadata === 'function' && 'entityMetadatas' in v;
}

/** Whether `value` is a `MikroORM` instance. */
export function isMikroOrm(value: unknown): boolean {
  const v = value as { em?: { getEventManager?: unknown }; config?: { get?: unknown } } | null;
  return typeof v === 'object' && v !== null && typeof v.em?.getEventManager === 'function' && typeof v.config?.get === 'function';
}

/*
 * BentoCache as the peer of the near cache: an L1 memory layer (entries serialized, its default),
 * Redis as L2 and a Redis pub/sub bus, the setup its documentation gives for several processes.
 * bentocache is ESM only: this CommonJS build loads it with a real `import()`, which TypeScript
 * would otherwise turn into a `require` (Node 20 cannot require ES modules).
 */
import type * as Bento from 'bentocache';
import type * as BentoMemory from 'bentocache/drivers/memory';
import type * as BentoRedis from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant source: the one way to a native import() from this CommonJS build
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

/** A BentoCache store L1 + L2 + bus on the Redis of `url`, its keys under `prefix`. */
export async function createBentoCache(url: string, prefix: string): Promise<Bento.BentoCache<{ multitier: Bento.BentoStore }>> {
  const [{ BentoCache, bentostore }, { memoryDriver }, { redisDriver, redisBusDriver }] = await Promise.all([
    importEsm<typeof Bento>('bentocache'),
    importEsm<typeof BentoMemory>('bentocache/drivers/memory'),
    importEsm<typeof BentoRedis>('bentocache/drivers/redis'),
  ]);
  const { hostname, port, pathname } = new URL(url);
  const connection = { host: hostname, port: Number(port || 6379), db: Number(pathname.slice(1) || 0) };
  return new BentoCache({
    default: 'multitier',
    prefix,
    stores: {
      multitier: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: new Redis(connection) }))
        .useBus(redisBusDriver({ connection })),
    },
  });
}

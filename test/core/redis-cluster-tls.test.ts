/*
 * A Redis Cluster whose nodes speak TLS only (clients, bus, replication), of the test's own, with a
 * certificate signed by a CA the test makes: `rediss://` root nodes and node-redis socket options
 * through `store: { cluster: { defaults } }` (docs/cluster.md, "TLS").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { Row } from '../support/cached-row.js';
import { OwnRedisCluster, clusterTools } from '../support/redis-cluster.js';

describe('TagCache on a Redis Cluster over TLS', clusterTools(), () => {
  let cluster: OwnRedisCluster;
  const caches: TagCache[] = [];
  const cache = (namespace: string, defaults: Record<string, unknown>): TagCache => {
    const made = new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes, defaults } }, namespace, invalidationTimeoutMs: 10_000, onInvalidationTimeout: 'reject' });
    caches.push(made);
    return made;
  };

  before(async () => {
    cluster = await OwnRedisCluster.start({ tls: true });
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await cluster?.stop();
  });

  it('misses, hits and invalidates across two processes, with the CA given in defaults.socket', async () => {
    const [writer, reader] = [cache('tls', { socket: { ca: cluster.ca } }), cache('tls', { socket: { ca: cluster.ca } })];
    const rows = ['A', 'B', 'C', 'D', 'E', 'F'].map((tag) => new Row([tag]));
    for (const [i, row] of rows.entries()) {
      await row.check(reader, `row-${i}`);
      await row.check(reader, `row-${i}`);
      await row.write(writer);
      await row.check(reader, `row-${i}`);
      await row.check(reader, `row-${i}`);
    }
    assert.equal(rows.reduce((sum, row) => sum + row.stale, 0), 0, 'no read older than a write that returned');
    assert.deepEqual(rows.map((row) => row.runs), rows.map(() => 2), 'the source ran once before and once after each write: the other reads were hits');
    for (const c of [writer, reader]) assert.ok(Object.values(c.stats().storeErrors).every((n) => n === 0), 'no store call failed');
  });

  it('without the CA the nodes\' certificate is refused: every read falls back to the source, nothing is served from the store', async () => {
    const untrusting = cache('tls-untrusted', {});
    const row = new Row(['A']);
    assert.equal(await row.read(untrusting), 0);
    assert.equal(await row.read(untrusting), 0);
    assert.equal(row.runs, 2, 'no hit');
    assert.ok(untrusting.stats().storeErrors.read > 0, 'the reads failed');
  });
});

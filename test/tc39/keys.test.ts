/*
 * Compiled by test/tc39/tsconfig.json (standard decorators): default keys, scopes and row
 * versions behave as under experimentalDecorators.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Cached, TagCache } from '../../lib/index.js';

const cache = new TagCache({ namespace: 'tc39-keys' });
after(() => cache.close());

describe('standard (TC39) decorators: keys', () => {
  it('two classes of one name both work and share nothing', async () => {
    const make = (answer: string) => {
      class UsersService {
        @Cached({ cache })
        async find(id: number) {
          return `${answer} ${id}`;
        }
      }
      return new UsersService();
    };
    const first = make('first');
    const second = make('second');
    assert.equal(await first.find(1), 'first 1');
    assert.equal(await second.find(1), 'second 1');
    assert.equal(await first.find(1), 'first 1');
  });

  it('a scope from the receiver keeps one entry per tenant, and a row version one per version', async () => {
    let renders = 0;
    class TenantRepo {
      constructor(readonly tenantId: string) {}
      @Cached({ cache, scope: (self: TenantRepo) => self.tenantId })
      async name() {
        return `name of ${this.tenantId}`;
      }
      @Cached({ cache, rowVersion: (row: { id: number; version: number }) => row.version })
      async render(row: { id: number; version: number }) {
        renders += 1;
        return `row ${row.id} v${row.version}`;
      }
    }
    assert.equal(await new TenantRepo('acme').name(), 'name of acme');
    assert.equal(await new TenantRepo('globex').name(), 'name of globex');
    const repo = new TenantRepo('acme');
    assert.equal(await repo.render({ id: 1, version: 1 }), 'row 1 v1');
    assert.equal(await repo.render({ id: 1, version: 1 }), 'row 1 v1');
    assert.equal(await repo.render({ id: 1, version: 2 }), 'row 1 v2');
    assert.equal(renders, 2);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldTag, isKeyLookup, planQueryTags, rowsUnknownTag, valueKey, type ConditionField, type EntityCondition } from '../../lib/orm/index.js';

/*
 * The ORM-neutral planner (lib/orm/query-plan.ts) that both integrations hand their conditions
 * to: which tags a query depends on before it runs.
 */
const fields: ConditionField[] = [
  { name: 'id', kind: 'number' },
  { name: 'userId', kind: 'number' },
  { name: 'status', kind: 'number' },
];
const photo = (alternatives: EntityCondition['alternatives']): EntityCondition => ({ type: 'Photo', fields, alternatives });
const eq = (entries: Record<string, unknown[]>) => new Map(Object.entries(entries));

describe('query cache: value keys', () => {
  it('spells one key for values the database calls equal', () => {
    assert.equal(valueKey('5', 'number'), valueKey(5, 'number'));
    assert.equal(valueKey(5n, 'number'), '5');
    assert.equal(valueKey('David ', 'string'), valueKey('david', 'string'));
    assert.equal(valueKey('Éclair', 'string'), valueKey('eclair', 'string'));
    assert.equal(valueKey('Straße', 'string'), valueKey('strase', 'string'));
    assert.equal(valueKey(1, 'boolean'), valueKey(true, 'boolean'));
    assert.equal(valueKey(null, 'number'), null);
  });

  it('refuses values a database would convert in ways no key follows', () => {
    assert.equal(valueKey('5abc', 'number'), undefined);
    assert.equal(valueKey(5, 'string'), undefined);
    assert.equal(valueKey('maybe', 'boolean'), undefined);
  });

  it('gives null its own spelling', () => {
    assert.notEqual(fieldTag('Photo', 'userId', null), fieldTag('Photo', 'userId', 'null'));
  });
});

describe('query cache: planQueryTags', () => {
  it('watches one field of a conjunction of equalities, the one with the fewest values, and the rows-unknown tag', () => {
    const plan = planQueryTags(photo([{ equalities: eq({ userId: [5, 7], status: [2] }), relations: [] }]));
    assert.deepEqual(plan, { tags: [rowsUnknownTag('Photo'), 'Photo.status=2'], precise: true, rowsCovered: true });
  });

  it('prefers the earlier field between equally selective ones, and invalidateOn restricts the choice', () => {
    const condition = photo([{ equalities: eq({ userId: [5], status: [2] }), relations: [] }]);
    assert.ok(planQueryTags(condition).tags.includes('Photo.userId=5'));
    assert.ok(planQueryTags(condition, ['status']).tags.includes('Photo.status=2'));
    assert.deepEqual(planQueryTags(condition, ['title']), { tags: [rowsUnknownTag('Photo'), 'Photo'], precise: false, rowsCovered: true });
  });

  it('falls back to the type-level tag with nothing to watch, and never to nothing', () => {
    for (const alternatives of [undefined, [], [{ equalities: eq({}), relations: [], otherConditions: true }], [{ equalities: eq({ userId: ['x'] }), relations: [] }]]) {
      assert.ok(planQueryTags(photo(alternatives)).tags.includes('Photo'), JSON.stringify(alternatives));
    }
  });

  it('watches each alternative of an OR by its own field', () => {
    const plan = planQueryTags(photo([{ equalities: eq({ userId: [5] }), relations: [] }, { equalities: eq({ status: [null] }), relations: [] }]));
    assert.deepEqual(plan.tags.sort(), [rowsUnknownTag('Photo'), 'Photo.status:null', 'Photo.userId=5'].sort());
  });

  it('through a many-to-one, adds the owning side unless one of its fields is watched; to-many relations alone need nothing of their own', () => {
    const user: EntityCondition = { type: 'User', fields: [{ name: 'username', kind: 'string' }], alternatives: [{ equalities: eq({ username: ['david'] }), relations: [] }] };
    const manyToOne = planQueryTags(photo([{ equalities: eq({}), relations: [{ target: user, ownerJoins: true }] }]));
    assert.ok(manyToOne.tags.includes('Photo') && manyToOne.tags.includes('User.username=david') && manyToOne.tags.includes(rowsUnknownTag('User')));
    const watched = planQueryTags(photo([{ equalities: eq({ status: [2] }), relations: [{ target: user, ownerJoins: true }] }]));
    assert.equal(watched.precise, true);
    const toMany = planQueryTags(photo([{ equalities: eq({}), relations: [{ target: user, ownerJoins: false }] }]));
    assert.deepEqual(toMany, { tags: [rowsUnknownTag('Photo'), rowsUnknownTag('User'), 'User.username=david'], precise: true, rowsCovered: false }, 'the photos returned must be learned');
    const ranged = planQueryTags(photo([{ equalities: eq({}), relations: [{ target: user, ownerJoins: false }], otherConditions: true }]));
    assert.equal(ranged.precise, false);
  });

  it('tells a primary-key lookup', () => {
    assert.equal(isKeyLookup(photo([{ equalities: eq({ id: [1, 2] }), relations: [] }]), ['id']), true);
    assert.equal(isKeyLookup(photo([{ equalities: eq({ id: [1], status: [2] }), relations: [] }]), ['id']), false);
    assert.equal(isKeyLookup(photo(undefined), ['id']), false);
  });
});

import type { DataSource } from 'typeorm';
import { Comment, Draft, Note, Photo, Tag, User } from './entities.js';

let round = 0;

/** Two users, three tags, three photos (p1, p3 of u1; p2 of u2), with comments, notes and drafts on p1. */
export async function seed(dataSource: DataSource) {
  const m = dataSource.manager;
  const n = ++round; // unique names and slugs, so that one database serves many tests
  const [u1, u2] = await m.save(User, [{ name: 'ann' }, { name: 'bob' }]);
  const [t1, t2, t3] = await m.save(Tag, [{ name: `sea${n}` }, { name: `sky${n}` }, { name: `sun${n}` }]);
  const p1 = await m.save(Photo, { title: 'beach', slug: `beach${n}`, user: u1, tags: [t1, t2] });
  const p2 = await m.save(Photo, { title: 'hill', slug: `hill${n}`, user: u2, tags: [t2] });
  const p3 = await m.save(Photo, { title: 'lake', slug: `lake${n}`, user: u1, tags: [] });
  const [c1, c2] = await m.save(Comment, [{ body: 'nice', photo: p1 }, { body: 'wow', photo: p1 }]);
  const [n1, n2] = await m.save(Note, [{ text: 'n1', photo: p1 }, { text: 'n2', photo: p1 }]);
  const [d1, d2] = await m.save(Draft, [{ text: 'd1', photo: p1 }, { text: 'd2', photo: p1 }]);
  return { u1: u1, u2: u2, t1: t1, t2: t2, t3: t3, p1, p2, p3, c1: c1, c2: c2, n1: n1, n2: n2, d1: d1, d2: d2 };
}

export type Seed = Awaited<ReturnType<typeof seed>>;

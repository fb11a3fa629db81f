import { describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { databaseCases } from './support/databases.js';
import { Comment, Draft, Note, Photo, Tag, User } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { seed } from './support/seed.js';

/*
 * One test per write path of the table, on SQLite and PostgreSQL: once the write's await
 * has returned, the tags of the old and the new rows and the type-level tag have new versions
 * (read through a second TagCache), and tags of rows the write did not touch do not.
 */
for (const db of databaseCases) {
  describe(`TypeORM write paths on ${db.name}`, { skip: db.skip }, () => {
    const h = useDatabase(db, () => new TagCache());
    const photos = () => h.dataSource.getRepository(Photo);

    describe('save', () => {
      it('inserts an entity instance: its row tags and the type tag', async () => {
        const s = await seed(h.dataSource);
        const photo = Object.assign(new Photo(), { title: 'new', slug: `new-${s.p1.id}`, user: s.u2 });
        await h.probe.expect(() => photos().save(photo), { changed: ['Photo', `User_${s.u2.id}_photos`], unchanged: [`User_${s.u1.id}_photos`] });
        // The new row's own tag has no name before the write; nothing but an invalidation writes a version for it.
        await h.probe.expectWritten([`Photo_${photo.id}`]);
      });

      it('inserts a plain object', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => photos().save({ title: 'plain', slug: `plain-${s.p1.id}`, user: { id: s.u1.id } }), {
          changed: ['Photo', `User_${s.u1.id}_photos`],
          unchanged: [`User_${s.u2.id}_photos`],
        });
      });

      it('updates a loaded entity moved to another user: both users’ lists', async () => {
        const s = await seed(h.dataSource);
        const photo = await photos().findOneByOrFail({ id: s.p1.id });
        photo.user = s.u2;
        await h.probe.expect(() => photos().save(photo), {
          changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, `User_${s.u2.id}_photos`, 'Photo'],
          unchanged: [`Photo_${s.p2.id}`, `Photo_${s.p3.id}`],
        });
      });

      it('updates through a plain partial object: the old row’s tags too', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => photos().save({ id: s.p1.id, title: 'renamed' }), {
          changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, 'Photo'],
          unchanged: [`User_${s.u2.id}_photos`, `Photo_${s.p2.id}`],
        });
      });

      it('an explicit FK column (comment.photoId) is read right when only the relation changed', async () => {
        const s = await seed(h.dataSource);
        const comment = await h.dataSource.getRepository(Comment).findOneByOrFail({ id: s.c1.id });
        comment.photo = s.p2;
        await h.probe.expect(() => h.dataSource.getRepository(Comment).save(comment), {
          changed: [`Comment_${s.c1.id}`, `Photo_${s.p1.id}_comments`, `Photo_${s.p2.id}_comments`],
        });
      });
    });

    it('insert', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => photos().insert({ title: 'ins', slug: `ins-${s.p1.id}`, user: { id: s.u2.id } }), {
        changed: ['Photo', `User_${s.u2.id}_photos`],
        unchanged: [`User_${s.u1.id}_photos`],
      });
    });

    it('remove: the row, database-cascaded comments, junction rows (both sides), SET NULL notes', async () => {
      const s = await seed(h.dataSource);
      const photo = await photos().findOneByOrFail({ id: s.p1.id });
      await h.probe.expect(() => photos().remove(photo), {
        changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, 'Photo', `Comment_${s.c1.id}`, `Photo_${s.p1.id}_comments`, `Tag_${s.t1.id}`, `Tag_${s.t2.id}`, `Photo_${s.p1.id}_notes`],
        unchanged: [`Tag_${s.t3.id}`, `Photo_${s.p2.id}`, `User_${s.u2.id}_photos`],
      });
    });

    it('softRemove and recover', async () => {
      const s = await seed(h.dataSource);
      const photo = await photos().findOneByOrFail({ id: s.p1.id });
      const expected = { changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, 'Photo'], unchanged: [`Photo_${s.p2.id}`] };
      await h.probe.expect(() => photos().softRemove(photo), expected);
      await h.probe.expect(() => photos().recover(photo), expected);
    });

    it('upsert of an existing row moved to another user (ids reported on SQLite are wrong)', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => photos().upsert({ slug: s.p1.slug, title: 'up', user: { id: s.u2.id } }, ['slug']), {
        changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, `User_${s.u2.id}_photos`, 'Photo'],
        unchanged: [`Photo_${s.p2.id}`, `Photo_${s.p3.id}`],
      });
    });

    it('upsert of two rows, one new', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(
        () =>
          photos().upsert(
            [
              { slug: s.p2.slug, title: 'up2', user: { id: s.u2.id } },
              { slug: `fresh-${s.p1.id}`, title: 'fresh', user: { id: s.u1.id } },
            ],
            ['slug'],
          ),
        { changed: [`Photo_${s.p2.id}`, `User_${s.u2.id}_photos`, `User_${s.u1.id}_photos`, 'Photo'], unchanged: [`Photo_${s.p1.id}`, `Photo_${s.p3.id}`] },
      );
    });

    it('increment and decrement', async () => {
      const s = await seed(h.dataSource);
      const expected = { changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, 'Photo'], unchanged: [`Photo_${s.p3.id}`] };
      await h.probe.expect(() => photos().increment({ id: s.p1.id }, 'views', 2), expected);
      await h.probe.expect(() => photos().decrement({ id: s.p1.id }, 'views', 1), expected);
    });

    describe('by criteria (exact rows, read with the same WHERE)', () => {
      it('update(criteria, partial) moving rows between users', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => photos().update({ user: { id: s.u1.id } }, { user: { id: s.u2.id } }), {
          changed: [`Photo_${s.p1.id}`, `Photo_${s.p3.id}`, `User_${s.u1.id}_photos`, `User_${s.u2.id}_photos`, 'Photo'],
          unchanged: [`Photo_${s.p2.id}`],
        });
      });

      it('delete(criteria): cascaded comments and junction rows too', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => photos().delete({ id: s.p1.id }), {
          changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, 'Photo', `Comment_${s.c2.id}`, `Photo_${s.p1.id}_comments`, `Tag_${s.t1.id}`, `Photo_${s.p1.id}_notes`],
          unchanged: [`Photo_${s.p3.id}`, `Tag_${s.t3.id}`],
        });
      });

      it('delete of a user cascades to photos, their comments and junction rows', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => h.dataSource.getRepository(User).delete({ id: s.u1.id }), {
          changed: [`User_${s.u1.id}`, `Photo_${s.p1.id}`, `Photo_${s.p3.id}`, `Photo_${s.p1.id}_comments`, `Tag_${s.t1.id}`],
          unchanged: [`Photo_${s.p2.id}`, `User_${s.u2.id}`, `Tag_${s.t3.id}`],
        });
      });

      it('softDelete and restore', async () => {
        const s = await seed(h.dataSource);
        const expected = { changed: [`Photo_${s.p2.id}`, `User_${s.u2.id}_photos`, 'Photo'], unchanged: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`] };
        await h.probe.expect(() => photos().softDelete({ id: s.p2.id }), expected);
        await h.probe.expect(() => photos().restore({ id: s.p2.id }), expected);
      });
    });

    describe('query builder', () => {
      it('update().set().where()', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(
          () => photos().createQueryBuilder().update().set({ title: 'qb' }).where('id IN (:...ids)', { ids: [s.p1.id, s.p2.id] }).execute(),
          { changed: [`Photo_${s.p1.id}`, `Photo_${s.p2.id}`, `User_${s.u1.id}_photos`, `User_${s.u2.id}_photos`], unchanged: [`Photo_${s.p3.id}`] },
        );
      });

      it('delete().where()', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => h.dataSource.createQueryBuilder().delete().from(Photo).where('slug = :slug', { slug: s.p3.slug }).execute(), {
          changed: [`Photo_${s.p3.id}`, `User_${s.u1.id}_photos`, 'Photo'],
          unchanged: [`Photo_${s.p1.id}`, `User_${s.u2.id}_photos`],
        });
      });

      it('softDelete() and restore()', async () => {
        const s = await seed(h.dataSource);
        const expected = { changed: [`Photo_${s.p3.id}`, `User_${s.u1.id}_photos`, 'Photo'], unchanged: [`Photo_${s.p1.id}`] };
        await h.probe.expect(() => photos().createQueryBuilder().softDelete().where('id = :id', { id: s.p3.id }).execute(), expected);
        await h.probe.expect(() => photos().createQueryBuilder().restore().where('id = :id', { id: s.p3.id }).execute(), expected);
      });
    });

    describe('many-to-many', () => {
      it('save of the owner side: removed and added tags, and the photo', async () => {
        const s = await seed(h.dataSource);
        const photo = await photos().findOneOrFail({ where: { id: s.p1.id }, relations: { tags: true } });
        photo.tags = [s.t2, s.t3];
        await h.probe.expect(() => photos().save(photo), { changed: [`Tag_${s.t1.id}`, `Tag_${s.t3.id}`, `Photo_${s.p1.id}`, `User_${s.u1.id}_photos`] });
      });

      it('save of the inverse side', async () => {
        const s = await seed(h.dataSource);
        const tag = await h.dataSource.getRepository(Tag).findOneOrFail({ where: { id: s.t3.id }, relations: { photos: true } });
        tag.photos = [s.p2];
        await h.probe.expect(() => h.dataSource.getRepository(Tag).save(tag), { changed: [`Tag_${s.t3.id}`, `Photo_${s.p2.id}`], unchanged: [`Photo_${s.p1.id}`] });
      });

      it('relation().add / remove / addAndRemove', async () => {
        const s = await seed(h.dataSource);
        const rel = () => h.dataSource.createQueryBuilder().relation(Photo, 'tags').of(s.p3);
        await h.probe.expect(() => rel().add(s.t3), { changed: [`Tag_${s.t3.id}`, `Photo_${s.p3.id}`], unchanged: [`Tag_${s.t1.id}`] });
        await h.probe.expect(() => rel().remove(s.t3), { changed: [`Tag_${s.t3.id}`, `Photo_${s.p3.id}`], unchanged: [`Tag_${s.t1.id}`] });
        await h.probe.expect(() => rel().addAndRemove([s.t1], []), { changed: [`Tag_${s.t1.id}`, `Photo_${s.p3.id}`], unchanged: [`Tag_${s.t2.id}`] });
        await h.probe.expect(() => rel().addAndRemove([s.t2], [s.t1]), { changed: [`Tag_${s.t1.id}`, `Tag_${s.t2.id}`, `Photo_${s.p3.id}`], unchanged: [`Tag_${s.t3.id}`] });
      });
    });

    describe('one-to-many and many-to-one', () => {
      it('relation().set on a many-to-one', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => h.dataSource.createQueryBuilder().relation(Photo, 'user').of(s.p1).set(s.u2), {
          changed: [`Photo_${s.p1.id}`, `User_${s.u1.id}_photos`, `User_${s.u2.id}_photos`],
          unchanged: [`Photo_${s.p3.id}`],
        });
      });

      it('relation().add on a one-to-many moves a child between parents', async () => {
        const s = await seed(h.dataSource);
        await h.probe.expect(() => h.dataSource.createQueryBuilder().relation(Photo, 'comments').of(s.p2).add(s.c1), {
          changed: [`Comment_${s.c1.id}`, `Photo_${s.p1.id}_comments`, `Photo_${s.p2.id}_comments`],
          unchanged: [`Comment_${s.c2.id}`],
        });
      });

      it('orphaned child, nullified (default orphanedRowAction)', async () => {
        const s = await seed(h.dataSource);
        const photo = await photos().findOneOrFail({ where: { id: s.p1.id }, relations: { notes: true } });
        photo.notes = photo.notes!.filter((n) => n.id === s.n1.id);
        await h.probe.expect(() => photos().save(photo), { changed: [`Note_${s.n2.id}`, `Photo_${s.p1.id}_notes`, 'Note'], unchanged: [`Note_${s.n1.id}`] });
        const note = await h.dataSource.getRepository(Note).findOneOrFail({ where: { id: s.n2.id }, relations: { photo: true } });
        if (note.photo !== null) throw new Error('the note was not nullified');
      });

      it('orphaned child, deleted', async () => {
        const s = await seed(h.dataSource);
        const photo = await photos().findOneOrFail({ where: { id: s.p1.id }, relations: { comments: true } });
        photo.comments = photo.comments!.filter((c) => c.id === s.c1.id);
        await h.probe.expect(() => photos().save(photo), { changed: [`Comment_${s.c2.id}`, `Photo_${s.p1.id}_comments`, 'Comment'], unchanged: [`Comment_${s.c1.id}`] });
      });

      it('orphaned child, soft-deleted', async () => {
        const s = await seed(h.dataSource);
        const photo = await photos().findOneOrFail({ where: { id: s.p1.id }, relations: { drafts: true } });
        photo.drafts = photo.drafts!.filter((d) => d.id === s.d1.id);
        await h.probe.expect(() => photos().save(photo), { changed: [`Draft_${s.d2.id}`, `Photo_${s.p1.id}_drafts`, 'Draft'], unchanged: [`Draft_${s.d1.id}`] });
        const left = await h.dataSource.getRepository(Draft).findBy({ photo: { id: s.p1.id } });
        if (left.length !== 1) throw new Error('the draft was not soft-deleted');
      });
    });
  });
}

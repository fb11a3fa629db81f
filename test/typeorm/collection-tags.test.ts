/*
 * Collection tags in TypeORM (docs/orm-contract.md, "Collection tags"): a to-many collection
 * loaded inside a cached computation (with `relations`, or lazily) makes it depend on
 * `<Owner>:<id>.<relation>`, even when empty, and every write that adds, removes or moves a member
 * invalidates it. The entities' own tag functions name their rows only: no collection tag is
 * written by hand.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Column, Entity, JoinTable, ManyToMany, ManyToOne, OneToMany, PrimaryColumn, type DataSource } from 'typeorm';
import { Cached, CacheTags, setDefaultTagCache, TagCache } from '../../lib/index.js';
import { installCacheTags } from '../../lib/typeorm/index.js';
import { readTwice } from '../support/hits.js';
import { storeCases } from '../support/stores.js';
import { databaseCases } from './support/databases.js';

@CacheTags((article: Article) => [`Article_${article.id}`])
@Entity()
class Article {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @OneToMany(() => Remark, (remark) => remark.article) remarks?: Remark[];
  @ManyToMany(() => Label, (label) => label.articles) @JoinTable() labels?: Label[];
  @OneToMany(() => Reply, (reply) => reply.article, { lazy: true }) replies!: Promise<Reply[]>;
}

@CacheTags((remark: Remark) => [`Remark_${remark.id}`])
@Entity()
class Remark {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) text!: string;
  @Column({ type: 'int', nullable: true }) articleId!: number | null;
  @ManyToOne(() => Article, (article) => article.remarks, { nullable: true, onDelete: 'CASCADE' }) article?: Article | null;
}

@CacheTags((label: Label) => [`Label_${label.id}`])
@Entity()
class Label {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @ManyToMany(() => Article, (article) => article.labels) articles?: Article[];
}

@Entity()
class Reply {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'int' }) articleId!: number;
  @ManyToOne(() => Article, (article) => article.replies, { onDelete: 'CASCADE' }) article?: Promise<Article>;
}

/** Declares no tags: what it depends on is learned from what it loads. */
class Reader {
  runs = 0;
  constructor(private readonly dataSource: DataSource) {}

  @Cached()
  async remarksOf(id: number): Promise<string[]> {
    this.runs++;
    const article = await this.dataSource.getRepository(Article).findOneOrFail({ where: { id }, relations: { remarks: true } });
    return article.remarks!.map((r) => r.text).sort();
  }

  @Cached()
  async labelsOf(id: number): Promise<string[]> {
    this.runs++;
    const article = await this.dataSource.getRepository(Article).findOneOrFail({ where: { id }, relations: { labels: true } });
    return article.labels!.map((l) => l.name).sort();
  }

  @Cached()
  async articlesLabelled(id: number): Promise<string[]> {
    this.runs++;
    const label = await this.dataSource.getRepository(Label).findOneOrFail({ where: { id }, relations: { articles: true } });
    return label.articles!.map((a) => a.title).sort();
  }

  @Cached()
  async replyCount(id: number): Promise<number> {
    this.runs++;
    const article = await this.dataSource.getRepository(Article).findOneByOrFail({ id });
    return (await article.replies).length;
  }
}

const entities = [Article, Remark, Label, Reply];

for (const db of databaseCases) {
  describe(`TypeORM collection tags, ${db.name}`, { skip: db.skip }, () => {
    let dataSource: DataSource;
    let drop: () => Promise<void>;
    let cache: TagCache;
    let reader: Reader;

    before(async () => {
      ({ dataSource, drop } = await db.open({ entities }));
      installCacheTags(dataSource, { maxRowsPerWrite: 2 });
    });
    after(() => drop());
    beforeEach(async () => {
      cache = storeCases[0].make();
      setDefaultTagCache(cache);
      for (const table of ['reply', 'remark', 'article_labels_label', 'label', 'article']) await dataSource.query(`DELETE FROM ${db.quote(table)}`);
      await dataSource.getRepository(Article).insert([5, 6, 7].map((id) => ({ id, title: `article ${id}` })));
      await dataSource.getRepository(Label).insert([{ id: 1, name: 'news' }, { id: 2, name: 'sport' }]);
      reader = new Reader(dataSource);
    });
    after(async () => {
      setDefaultTagCache(new TagCache());
      await cache.close();
    });

    const cached = <T>(read: () => Promise<T>): Promise<T> => readTwice(read, () => reader.runs);

    it('an empty collection loaded with relations is invalidated by a new member; a member of another owner does not reach it', async () => {
      assert.deepEqual(await cached(() => reader.remarksOf(5)), []);
      await dataSource.getRepository(Remark).insert({ id: 1, text: 'first', articleId: 7 });
      assert.deepEqual(await reader.remarksOf(5), []);
      assert.equal(reader.runs, 1, 'a remark of article 7: still a hit');
      await dataSource.getRepository(Remark).save({ id: 2, text: 'hello', article: { id: 5 } as Article });
      assert.deepEqual(await reader.remarksOf(5), ['hello']);
    });

    it('a member moved from one owner to another invalidates both collections', async () => {
      await dataSource.getRepository(Remark).insert({ id: 1, text: 'moving', articleId: 5 });
      assert.deepEqual(await cached(() => reader.remarksOf(5)), ['moving']);
      assert.deepEqual(await cached(() => reader.remarksOf(6)), []);
      const remark = await dataSource.getRepository(Remark).findOneByOrFail({ id: 1 });
      remark.articleId = 6;
      await dataSource.getRepository(Remark).save(remark);
      assert.deepEqual(await reader.remarksOf(5), []);
      assert.deepEqual(await reader.remarksOf(6), ['moving']);
    });

    it('a delete of a member and an update by criteria invalidate the collection', async () => {
      await dataSource.getRepository(Remark).insert([{ id: 1, text: 'a', articleId: 5 }, { id: 2, text: 'b', articleId: 6 }]);
      assert.deepEqual(await cached(() => reader.remarksOf(5)), ['a']);
      await dataSource.getRepository(Remark).delete({ id: 1 });
      assert.deepEqual(await cached(() => reader.remarksOf(5)), []);
      await dataSource.getRepository(Remark).update({ articleId: 6 }, { articleId: 5 });
      assert.deepEqual(await reader.remarksOf(5), ['b']);
    });

    it('a bulk write past maxRowsPerWrite, whose rows are not read, invalidates it through the relation tag', async () => {
      await dataSource.getRepository(Remark).insert([1, 2, 3].map((id) => ({ id, text: `r${id}`, articleId: 6 })));
      assert.deepEqual(await cached(() => reader.remarksOf(5)), []);
      await dataSource.getRepository(Remark).update({ articleId: 6 }, { articleId: 5 });
      assert.deepEqual(await reader.remarksOf(5), ['r1', 'r2', 'r3']);
    });

    it('many-to-many: adding and removing a link invalidates the collection on both sides', async () => {
      assert.deepEqual(await cached(() => reader.labelsOf(5)), []);
      assert.deepEqual(await cached(() => reader.articlesLabelled(2)), []);
      const article = await dataSource.getRepository(Article).findOneOrFail({ where: { id: 5 }, relations: { labels: true } });
      article.labels = [{ id: 2 } as Label];
      await dataSource.getRepository(Article).save(article);
      assert.deepEqual(await cached(() => reader.labelsOf(5)), ['sport']);
      assert.deepEqual(await cached(() => reader.articlesLabelled(2)), ['article 5']);
      await dataSource.createQueryBuilder().relation(Article, 'labels').of(5).remove(2);
      assert.deepEqual(await reader.labelsOf(5), []);
      assert.deepEqual(await reader.articlesLabelled(2), []);
    });

    it('a collection loaded lazily is invalidated by a new member too', async () => {
      assert.equal(await cached(() => reader.replyCount(5)), 0);
      await dataSource.getRepository(Reply).insert({ id: 1, articleId: 6 });
      assert.equal(await reader.replyCount(5), 0);
      assert.equal(reader.runs, 1, 'a reply of article 6: still a hit');
      await dataSource.getRepository(Reply).insert({ id: 2, articleId: 5 });
      assert.equal(await reader.replyCount(5), 1);
    });
  });
}

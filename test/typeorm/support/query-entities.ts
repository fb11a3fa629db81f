import { ChildEntity, Column, DeleteDateColumn, Entity, JoinColumn, JoinTable, ManyToMany, ManyToOne, OneToMany, PrimaryGeneratedColumn, TableInheritance, type ValueTransformer } from 'typeorm';
import { CacheTags } from '../../../lib/index.js';

/*
 * The query-cache test app: authors and their shots, shots labelled many-to-many. Condition fields
 * (docs/query-cache.md): every primary key, Shot.authorId (a join column), Label.name (unique),
 * and the declared Author.username and Shot.status. Shot.title and Shot.views are not.
 */

@CacheTags((author: Author) => [`Author_${author.id}`], { conditionFields: ['username'] })
@Entity()
export class Author {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) username!: string;
  @Column({ type: 'varchar', default: '' }) bio!: string;
  @OneToMany(() => Shot, (shot) => shot.author) shots?: Shot[];
}

@CacheTags({ queryCache: 'byId' })
@Entity()
export class Label {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', unique: true }) name!: string;
  @ManyToMany(() => Shot, (shot) => shot.labels) shots?: Shot[];
}

@CacheTags({ conditionFields: ['status'] })
@Entity()
export class Shot {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'int', default: 1 }) status!: number;
  @Column({ type: 'int', default: 0 }) views!: number;
  @Column({ type: 'int', nullable: true }) authorId!: number | null;
  @ManyToOne(() => Author, (author) => author.shots, { nullable: true, onDelete: 'CASCADE' }) @JoinColumn({ name: 'authorId' }) author?: Author | null;
  @ManyToMany(() => Label, (label) => label.shots) @JoinTable() labels?: Label[];
  @DeleteDateColumn({ type: Date, nullable: true }) deletedAt?: Date | null;
}

/** Cached whatever the query, by its entity's default. */
@CacheTags({ queryCache: 'all' })
@Entity()
export class Setting {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) key!: string;
  @Column({ type: 'varchar' }) value!: string;
}

/** Single-table inheritance with a parent that has no @CacheTags: its children's writes do not reach it. */
@Entity()
@TableInheritance({ column: { type: 'varchar', name: 'kind' } })
export class Media {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
}

@CacheTags({})
@ChildEntity()
export class Song extends Media {}

/** A text column that a query may name by a `URL` or a `RegExp` (read back as the text). */
const textOf: ValueTransformer = { to: (value: unknown) => (value instanceof URL ? value.href : value instanceof RegExp ? value.source : value), from: (stored: unknown) => stored };

/** Queried by values whose own enumerable properties are none: the cache key must spell them by content. */
@CacheTags({ queryCache: 'all' })
@Entity()
export class Link {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', transformer: textOf }) url!: string | URL;
  @Column({ type: 'varchar', transformer: textOf }) pattern!: string | RegExp;
}

export const queryEntities = [Author, Label, Shot, Setting, Media, Song, Link];

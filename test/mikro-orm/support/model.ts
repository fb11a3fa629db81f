import { Collection, OptionalProps, type Ref } from '@mikro-orm/core';
import { CacheTags } from '../../../lib/mikro-orm/index.js';
import { Entity, ManyToMany, ManyToOne, OneToMany, PrimaryKey, Property } from './versions.js';

/*
 * The test app model, shared with the TypeORM issue: MikroORM and cache-tags decorators side by
 * side. Tag functions read relations as `photo.user.id`: they receive the entity, or for an old row
 * an object of the same shape whose relations hold only the primary key.
 */

@CacheTags((u: User) => [`User_${u.id}`])
@Entity()
export class User {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @OneToMany(() => Photo, (p) => p.user) photos = new Collection<Photo>(this);
}

@CacheTags((t: Tag) => [`Tag_${t.id}`])
@Entity()
export class Tag {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @ManyToMany(() => Photo, (p) => p.tags) photos = new Collection<Photo>(this);
}

@CacheTags((p: Photo) => [`Photo_${p.id}`, `User_${p.user?.id}_photos`])
@Entity()
export class Photo {
  [OptionalProps]?: 'views';
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @Property({ type: 'number' }) views: number = 0;
  @ManyToOne(() => User, { deleteRule: 'cascade' }) user!: User;
  @ManyToMany(() => Tag, (t) => t.photos, { owner: true }) tags = new Collection<Tag>(this);
  @OneToMany(() => Comment, (c) => c.photo, { orphanRemoval: true }) comments = new Collection<Comment>(this);
}

@CacheTags((c: Comment) => [`Comment_${c.id}`, `Photo_${c.photo?.id}_comments`])
@Entity()
export class Comment {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) text!: string;
  @ManyToOne(() => Photo, { deleteRule: 'cascade', ref: true }) photo!: Ref<Photo>;
}

export const entities = [User, Tag, Photo, Comment];

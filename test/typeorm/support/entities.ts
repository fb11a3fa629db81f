import { Column, DeleteDateColumn, Entity, JoinTable, ManyToMany, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { CacheTags } from '../../../lib/index.js';

/*
 * The test app. Tag functions read the FK the two ways users write them: `photo.user?.id` (a
 * relation only) and `comment.photoId` (an explicit FK column next to the relation).
 */

@CacheTags((user: User) => [`User_${user.id}`])
@Entity()
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @OneToMany(() => Photo, (photo) => photo.user) photos?: Photo[];
}

@CacheTags((tag: Tag) => [`Tag_${tag.id}`])
@Entity()
export class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', unique: true }) name!: string;
  @ManyToMany(() => Photo, (photo) => photo.tags) photos?: Photo[];
}

@CacheTags((photo: Photo) => [`Photo_${photo.id}`, `User_${photo.user?.id}_photos`])
@Entity()
export class Photo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar', unique: true }) slug!: string;
  @Column({ type: 'int', default: 0 }) views!: number;
  @ManyToOne(() => User, (user) => user.photos, { nullable: true, onDelete: 'CASCADE' }) user?: User | null;
  @ManyToMany(() => Tag, (tag) => tag.photos) @JoinTable() tags?: Tag[];
  @OneToMany(() => Comment, (comment) => comment.photo, { cascade: true }) comments?: Comment[];
  @OneToMany(() => Note, (note) => note.photo, { cascade: true }) notes?: Note[];
  @OneToMany(() => Draft, (draft) => draft.photo, { cascade: true }) drafts?: Draft[];
  @DeleteDateColumn({ type: Date, nullable: true }) deletedAt?: Date | null;
}

@CacheTags((comment: Comment) => [`Comment_${comment.id}`, `Photo_${comment.photoId}_comments`])
@Entity()
export class Comment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) body!: string;
  @Column({ type: 'int', nullable: true }) photoId!: number | null;
  @ManyToOne(() => Photo, (photo) => photo.comments, { onDelete: 'CASCADE', orphanedRowAction: 'delete' }) photo?: Photo;
}

/** Orphans are nullified (TypeORM's default `orphanedRowAction`). */
@CacheTags((note: Note) => [`Note_${note.id}`, `Photo_${note.photo?.id}_notes`])
@Entity()
export class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) text!: string;
  @ManyToOne(() => Photo, (photo) => photo.notes, { nullable: true, onDelete: 'SET NULL' }) photo?: Photo | null;
}

/** Orphans are soft-deleted. */
@CacheTags((draft: Draft) => [`Draft_${draft.id}`, `Photo_${draft.photo?.id}_drafts`])
@Entity()
export class Draft {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) text!: string;
  @ManyToOne(() => Photo, (photo) => photo.drafts, { nullable: true, onDelete: 'SET NULL', orphanedRowAction: 'soft-delete' }) photo?: Photo | null;
  @DeleteDateColumn({ type: Date, nullable: true }) deletedAt?: Date | null;
}

export const entities = [User, Tag, Photo, Comment, Note, Draft];

import { Column, Entity, JoinTable, ManyToMany, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { CacheTags } from '../../lib/index.js';

// Each entity says which tags one of its rows stands for. The tag function receives an
// entity-shaped object: columns by property name, a many-to-one as `{ id }` (or the full entity).

@CacheTags((user: User) => [`User_${user.id}`])
@Entity()
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

@CacheTags((tag: Tag) => [`Tag_${tag.id}`])
@Entity()
export class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

@CacheTags((photo: Photo) => [`Photo_${photo.id}`, `User_${photo.user?.id}_photos`])
@Entity()
export class Photo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @ManyToOne(() => User, { onDelete: 'CASCADE' }) user!: User;
  @ManyToMany(() => Tag) @JoinTable() tags!: Tag[];
  @OneToMany(() => Comment, (comment) => comment.photo, { cascade: true }) comments!: Comment[];
}

@CacheTags((comment: Comment) => [`Comment_${comment.id}`, `Photo_${comment.photoId}_comments`])
@Entity()
export class Comment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) body!: string;
  @Column({ type: 'int' }) photoId!: number;
  @ManyToOne(() => Photo, (photo) => photo.comments, { onDelete: 'CASCADE' }) photo!: Photo;
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Cached, CacheTags } from '../../lib/index.js'; // in your app: 'cache-tags'

/** `Photo_<id>` on each row: writes to a row invalidate what was built from it. */
@CacheTags((photo: Photo) => [`Photo_${photo.id}`])
@Entity()
export class Photo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
}

@Injectable()
export class PhotoService {
  constructor(@InjectRepository(Photo) private readonly photos: Repository<Photo>) {}

  /** Cached until photo `id` changes: its tag comes from the arguments. */
  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  findOne(id: number): Promise<Photo | null> {
    return this.photos.findOneBy({ id });
  }

  /** Cached until any photo is written: `Photo` is the type-level tag every Photo write bumps. */
  @Cached(['Photo'])
  findAll(): Promise<Photo[]> {
    return this.photos.find({ order: { id: 'ASC' } });
  }

  /** A plain write: the TypeORM integration that CacheTagsModule installed invalidates for it. */
  async rename(id: number, title: string): Promise<Photo | null> {
    await this.photos.update({ id }, { title });
    return this.photos.findOneBy({ id });
  }

  create(title: string): Promise<Photo> {
    return this.photos.save(this.photos.create({ title }));
  }
}

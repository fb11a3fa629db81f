import type { DataSource } from 'typeorm';
import { Cached } from '../../../lib/index.js';
import { Comment, Photo, Tag } from './entities.js';

/** The reads of the test app, uncached: what a cached read must equal after any write. */
export class PhotoQueries {
  constructor(private readonly dataSource: DataSource) {}

  async photo(id: number) {
    const photo = await this.dataSource.getRepository(Photo).findOne({ where: { id }, relations: { user: true, tags: true } });
    return photo && { title: photo.title, views: photo.views, user: photo.user?.name ?? null, tags: photo.tags!.map((t) => t.name).sort() };
  }

  async photosOfUser(userId: number) {
    const photos = await this.dataSource.getRepository(Photo).find({ where: { user: { id: userId } }, order: { id: 'ASC' } });
    return photos.map((p) => p.title);
  }

  async photosOfTag(tagId: number) {
    const tag = await this.dataSource.getRepository(Tag).findOne({ where: { id: tagId }, relations: { photos: true } });
    return (tag?.photos ?? []).map((p) => p.title).sort();
  }

  countPhotos() {
    return this.dataSource.getRepository(Photo).count();
  }

  async commentsOf(photoId: number) {
    const comments = await this.dataSource.getRepository(Comment).find({ where: { photoId }, order: { id: 'ASC' } });
    return comments.map((c) => c.body);
  }
}

/** The same reads behind `@Cached`, on the default cache, counting how often the source runs. */
export class PhotoService {
  runs = 0;
  constructor(private readonly queries: PhotoQueries) {}

  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  photo(id: number) {
    this.runs++;
    return this.queries.photo(id);
  }

  @Cached({ tags: (userId: number) => [`User_${userId}_photos`] })
  photosOfUser(userId: number) {
    this.runs++;
    return this.queries.photosOfUser(userId);
  }

  // A list: the tag's row plus model-level versioning of photos (a soft-deleted or restored photo
  // leaves or joins it without any junction row changing).
  @Cached({ tags: (tagId: number) => [`Tag_${tagId}`, 'Photo'] })
  photosOfTag(tagId: number) {
    this.runs++;
    return this.queries.photosOfTag(tagId);
  }

  @Cached(['Photo'])
  countPhotos() {
    this.runs++;
    return this.queries.countPhotos();
  }

  @Cached({ tags: (photoId: number) => [`Photo_${photoId}_comments`] })
  commentsOf(photoId: number) {
    this.runs++;
    return this.queries.commentsOf(photoId);
  }
}

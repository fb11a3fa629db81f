import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheTagsModuleOptions } from './module-options.js';

/** Extra options of `forRoot`/`forRootAsync` that shape the module rather than the cache. */
export interface CacheTagsModuleExtras {
  /** Register the module globally, so that every module can inject its caches. Default `true`. */
  isGlobal?: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<CacheTagsModuleOptions>({
  moduleName: 'CacheTags',
})
  .setClassMethodName('forRoot')
  .setExtras<CacheTagsModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

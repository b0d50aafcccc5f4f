import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { i18nLoader } from '@astrojs/starlight/loaders';
import { docsSchema, i18nSchema } from '@astrojs/starlight/schema';
import { docsPatterns, readVariant } from '../site.ts';

export const collections = {
  // Starlight's docsLoader() always loads every page under src/content/docs/. This glob loader reads the
  // same folder but leaves internal pages out of the public build's collection entirely.
  docs: defineCollection({
    loader: glob({ base: './src/content/docs', pattern: docsPatterns(readVariant()) }),
    schema: docsSchema(),
  }),
  i18n: defineCollection({ loader: i18nLoader(), schema: i18nSchema() }),
};

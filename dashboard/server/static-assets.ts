/**
 * The web UI's files (built into dashboard/public by dashboard/build-web.ts),
 * served by a wildcard route for whatever path no API route takes.
 */
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
export const DEFAULT_PUBLIC_DIR = join(here, '..', 'public')

export async function registerStaticAssets(app: FastifyInstance, publicDir = DEFAULT_PUBLIC_DIR): Promise<void> {
  await app.register(fastifyStatic, {
    root: publicDir,
    index: ['index.html'],
    wildcard: true,
  })
}

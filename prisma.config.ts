// Lets the Prisma CLI use its WASM schema engine through the pg adapter, so `prisma migrate diff`
// works without downloading a native engine (see docs/decisions/002-migrations.md).
import path from 'node:path'
import { defineConfig } from 'prisma/config'
import { PrismaPg } from '@prisma/adapter-pg'

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  async adapter() {
    // allowExitOnIdle: the CLI never closes this pool; without it each command lingers ~10 s.
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://localhost/carcosa', allowExitOnIdle: true })
  },
})

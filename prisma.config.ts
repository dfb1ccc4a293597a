// Configuration for Prisma's CLI (7.x): `prisma generate` reads the schema from here. The
// datasource URL lives here since Prisma 7 (no longer in the schema); only commands that run
// Prisma's native schema engine use it. Carcosa's own migration tooling needs neither (see
// docs/decisions/002-migrations.md and 013-prisma-7.md).
import path from 'node:path'
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: { url: process.env.DATABASE_URL },
})

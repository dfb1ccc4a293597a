/**
 * Prisma's schema engine compiled to WebAssembly (`@prisma/schema-engine-wasm`), for migration diffs
 * without the native engine that Prisma 7's CLI would download. The package's version names the
 * engines commit of the installed `prisma` (`@prisma/engines-version`); keep the two in step, or the
 * SQL may differ from what the CLI would write. See docs/decisions/013-prisma-7.md.
 */
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg'

type SchemaFile = { path: string; content: string }

let loaded: Promise<typeof engineBindings.SchemaEngine> | undefined

/** The package's own entry imports the .wasm as an ES module, which Node 20 cannot: instantiate it here. */
function loadSchemaEngine() {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url)
    const bindingsFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
    const bytes = await fs.readFile(path.join(path.dirname(bindingsFile), 'schema_engine_bg.wasm'))
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { './schema_engine_bg.js': engineBindings })
    engineBindings.__wbg_set_wasm(instance.exports)
    ;(instance.exports as { __wbindgen_start: () => void }).__wbindgen_start()
    return engineBindings.SchemaEngine
  })()
  return loaded
}

/**
 * The migration SQL that takes `from` (null: an empty database) to `to`, or null when they do not
 * differ. The engine opens a connection to `databaseUrl` even for a schema-to-schema diff; it writes
 * nothing there.
 */
export async function diffSchemas(options: { from: SchemaFile | null; to: SchemaFile; databaseUrl: string }): Promise<string | null> {
  const SchemaEngine = await loadSchemaEngine()
  // allowExitOnIdle: nothing closes this pool; without it the process lingers until the idle timeout.
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: options.databaseUrl, allowExitOnIdle: true }))
  const engine = await SchemaEngine.new({ datamodels: undefined }, () => {}, adapter)
  try {
    const result = await engine.diff({
      from: options.from ? { tag: 'schemaDatamodel', files: [options.from] } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [options.to] },
      script: true,
      // exitCode: the engine answers 2 when there is a difference, 0 when there is none.
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    })
    if (result.exitCode === 0) return null
    if (result.exitCode !== 2 || result.stdout === null)
      throw new Error(`the schema engine answered exit code ${result.exitCode} without a script`)
    return result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`
  } finally {
    engine.free()
  }
}

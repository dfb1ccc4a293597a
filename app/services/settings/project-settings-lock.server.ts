import type { Transaction } from '~/utils/db.server'

/**
 * The project's stored settings with its row locked until the transaction ends. Every
 * read-modify-write of `Project.settings` goes through here, so two saves of different parts
 * (the settings form, the transform settings) wait for each other instead of one losing the other.
 */
export async function lockProjectSettings(tx: Transaction, projectId: string): Promise<Record<string, unknown>> {
  const [row] = await tx.$queryRaw<{ settings: unknown }[]>`SELECT settings FROM "Project" WHERE id = ${projectId} FOR UPDATE`
  const settings = row?.settings
  return typeof settings === 'object' && settings !== null && !Array.isArray(settings) ? (settings as Record<string, unknown>) : {}
}

/** True when a write failed on a unique constraint (Prisma P2002), e.g. two requests taking one slug. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002'
}

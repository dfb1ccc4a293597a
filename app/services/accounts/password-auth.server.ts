import { Authenticator } from 'remix-auth'
import { FormStrategy } from 'remix-auth-form'
import { AppError } from '~/utils/errors.server'
import type { RequestMeta } from '~/utils/request.server'
import type { PublicUser } from './users.server'
import { signIn } from './sign-in.server'
import { signInSchema } from './schemas'

/**
 * Email-and-password sign-in through remix-auth's form strategy. The authenticator is built per
 * request because the throttle and the audit trail need the caller's IP, which the strategy's
 * verify callback cannot otherwise see.
 */
export function authenticateWithPassword(request: Request, meta: RequestMeta): Promise<PublicUser> {
  const authenticator = new Authenticator<PublicUser>()
  authenticator.use(
    new FormStrategy(async ({ form }) => {
      const parsed = signInSchema.safeParse(Object.fromEntries(form))
      if (!parsed.success) throw new AppError('VALIDATION', 'Enter your email and password')
      return signIn(parsed.data, meta)
    }),
    'form',
  )
  return authenticator.authenticate('form', request)
}

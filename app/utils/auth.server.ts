import { Authenticator } from 'remix-auth'
import { FormStrategy } from 'remix-auth-form'
import { signInSchema } from '~/services/accounts/schemas'
import { signIn } from '~/services/accounts/sign-in.server'
import type { PublicUser } from '~/services/accounts/users.server'
import { AppError } from './errors.server'
import type { RequestMeta } from './request.server'

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

import { cssBundleHref } from '@remix-run/css-bundle'
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import {
  Form,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  isRouteErrorResponse,
  useLoaderData,
  useRouteError,
  useRouteLoaderData,
} from '@remix-run/react'
import type { ReactNode } from 'react'
import type { ShouldRevalidateFunction } from '@remix-run/react'
import './styles/app.css'
import { FlashBanner } from './components/flash-banner'
import { takeFlash } from './utils/flash.server'
import { useNonce } from './utils/nonce'
import { getOptionalUserForPage } from './services/accounts/session-cookie.server'

export const meta: MetaFunction = () => [{ title: 'Carcosa' }]
export const links: LinksFunction = () => [
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
  ...(cssBundleHref ? [{ rel: 'stylesheet', href: cssBundleHref }] : []),
]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const signedIn = await getOptionalUserForPage(request, context)
  const { flash, setCookie } = await takeFlash(request)
  return data(
    { user: signedIn ? { name: signedIn.user.name, email: signedIn.user.email } : null, flash },
    setCookie ? { headers: { 'Set-Cookie': setCookie } } : undefined,
  )
}

/**
 * The banner (and a new key's secret) is read per page: a client-side navigation must not show an old one again.
 * A page that reloads its own data in place (the file browser's live updates call `revalidate()`: same URL, no
 * submission) keeps the banner it shows; reading the root again would take the already-taken flash and drop it.
 */
export const shouldRevalidate: ShouldRevalidateFunction = ({ currentUrl, nextUrl, formMethod, defaultShouldRevalidate }) => {
  if (!formMethod && currentUrl.href === nextUrl.href) return false
  return defaultShouldRevalidate || currentUrl.pathname !== nextUrl.pathname
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce()
  const rootData = useRouteLoaderData<typeof loader>('root')
  const user = rootData?.user ?? null
  return (
    <html lang="en" className="h-full">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="min-h-full">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:bg-white focus:p-2">
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-5xl items-center justify-between gap-4 px-4 py-3">
            <Link to="/" className="text-lg font-bold tracking-tight text-slate-900 no-underline hover:no-underline">
              Carcosa
            </Link>
            {user ? (
              <nav aria-label="Account" className="flex items-center gap-4 text-sm">
                <Link to="/orgs">Organizations</Link>
                <Link to="/docs/api">API docs</Link>
                <Link to="/account">Account</Link>
                <span className="hidden text-slate-500 sm:inline">{user.email}</span>
                <Form method="post" action="/logout">
                  <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 font-medium hover:bg-slate-50">
                    Sign out
                  </button>
                </Form>
              </nav>
            ) : (
              <nav aria-label="Account" className="flex items-center gap-4 text-sm">
                <Link to="/docs/api">API docs</Link>
                <Link to="/login">Sign in</Link>
                <Link to="/register">Create account</Link>
              </nav>
            )}
          </div>
        </header>
        <main id="main" className="mx-auto max-w-5xl px-4 py-8">
          {rootData?.flash ? <FlashBanner flash={rootData.flash} /> : null}
          {children}
        </main>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  useLoaderData<typeof loader>()
  return <Outlet />
}

export function ErrorBoundary() {
  const error = useRouteError()
  const status = isRouteErrorResponse(error) ? error.status : 500
  const message = isRouteErrorResponse(error)
    ? ((error.data as { message?: string } | null)?.message ?? (status === 404 ? 'This page does not exist.' : error.statusText))
    : 'Something went wrong on our side. Try again in a moment.'
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 429 ? 'Too many requests' : 'Error'
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-6">
      <h1 className="text-2xl font-bold">
        {status} · {title}
      </h1>
      <p className="mt-2 text-slate-700">{message}</p>
      <p className="mt-4">
        <Link to="/">Back to the dashboard</Link>
      </p>
    </div>
  )
}

/**
 * The route manifest a page is rendered with (app/utils/render-manifest.server.ts) leaves out only
 * routes that cannot change the render: for every URL tried, Remix's own matcher finds the same
 * routes, in the same order, for the URL and for each of its parent paths (what `<RemixServer>`
 * routes and what `<Scripts>` inlines with lazy route discovery) with the whole table and with the
 * one the render gets. Checked on the build's real route table and on made-up tables with the
 * cases the pruning must leave alone.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, test } from 'node:test'
import type { EntryContext, ServerBuild } from '@remix-run/node'
import { matchRoutes } from '@remix-run/react'
import { manifestForRender } from '~/utils/render-manifest.server'

type Manifest = EntryContext['manifest']
type ManifestRoute = Manifest['routes'][string]

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

interface RouteObject {
  id: string
  path?: string
  index?: boolean
  caseSensitive?: boolean
  children?: RouteObject[]
}

/** The route tree as Remix builds it from a manifest (createServerRoutes): children in manifest order. */
function routeTree(routes: Manifest['routes'], parentId?: string): RouteObject[] {
  return Object.values(routes)
    .filter((route): route is ManifestRoute => route !== undefined && route.parentId === parentId)
    .map((route) => {
      const children = routeTree(routes, route.id)
      return {
        id: route.id,
        path: route.path,
        index: route.index,
        caseSensitive: route.caseSensitive,
        ...(route.index ? {} : { children }),
      } as RouteObject
    })
}

/** The paths the render matches: the URL's, then each parent path down to `/`, as lazy route discovery walks them. */
function pathsMatched(pathname: string) {
  const segments = pathname.split('/').filter(Boolean)
  const paths = [pathname, '/']
  segments.pop()
  while (segments.length > 0) {
    paths.push(`/${segments.join('/')}`)
    segments.pop()
  }
  return paths
}

function idsOf(tree: RouteObject[], pathname: string) {
  // The router warns about malformed escapes (which it then matches undecoded): expected here.
  const warn = console.warn
  console.warn = () => {}
  try {
    return matchRoutes(tree as never, pathname)?.map((match) => match.route.id as string) ?? null
  } finally {
    console.warn = warn
  }
}

/** Same matches for every path the render matches, and every route matched is in the pruned manifest. */
function assertSameRender(manifest: Manifest, pathname: string) {
  const full = routeTree(manifest.routes)
  // The page's own matches come from the server's full table.
  const matched = idsOf(full, pathname) ?? ['root']
  const pruned = manifestForRender(manifest, pathname, matched)
  const prunedTree = routeTree(pruned.routes)
  for (const candidate of pathsMatched(pathname)) {
    const expected = idsOf(full, candidate)
    assert.deepEqual(idsOf(prunedTree, candidate), expected, `${pathname}: the matches of ${candidate}`)
    for (const id of expected ?? []) assert.ok(pruned.routes[id], `${pathname}: ${id} is in the pruned manifest`)
  }
  for (const id of matched) assert.ok(pruned.routes[id], `${pathname}: the page's own route ${id} is kept`)
  // Everything else of the manifest is left as it was.
  assert.deepEqual({ ...pruned, routes: undefined }, { ...manifest, routes: undefined })
  return pruned
}

/** URLs for a route path: its params filled in a few ways, and variations that must not match differently. */
function urlsFor(routePath: string): string[] {
  const filled = (value: string) =>
    `/${routePath
      .split('/')
      .filter(Boolean)
      .map((segment) => (segment === '*' ? 'a/b' : segment.startsWith(':') ? value : segment))
      .join('/')}`
  const base = filled('acme')
  return [
    base,
    filled('files'),
    filled('teams'),
    filled('caf%C3%A9'),
    filled('a%2Fb'),
    base.toUpperCase(),
    `${base}/`,
    `${base}/extra`,
    `${base}/extra/more`,
    base.replace(/\/[^/]*$/, '/nope') || '/nope',
  ]
}

function fullPaths(routes: Manifest['routes']) {
  const full = (id: string | undefined): string => {
    const route = id ? routes[id] : undefined
    if (!route) return ''
    return [full(route.parentId), route.path ?? ''].filter(Boolean).join('/')
  }
  return Object.keys(routes).map((id) => full(id))
}

const route = (id: string, parentId: string | undefined, routePath?: string, extra: Partial<ManifestRoute> = {}): ManifestRoute => ({
  id,
  parentId,
  path: routePath,
  module: `/build/${id}.js`,
  hasAction: false,
  hasLoader: true,
  hasClientAction: false,
  hasClientLoader: false,
  hasErrorBoundary: false,
  ...extra,
})

const manifestOf = (routes: ManifestRoute[]): Manifest =>
  ({
    entry: { module: '/build/entry.client.js', imports: [] },
    url: '/build/manifest.js',
    version: 'test',
    routes: Object.fromEntries(routes.map((r) => [r.id, r])),
  }) as Manifest

describe('the manifest a page is rendered with', () => {
  test('the build: every route, its parents and variations match as with the whole table', async () => {
    const build = (await import(pathToFileURL(path.join(ROOT, 'build', 'index.js')).href)) as ServerBuild
    const manifest = build.assets as unknown as Manifest
    const urls = new Set(['/', '/nope', '/orgs//x', '/orgs/%E0%A4%A', '/ORGS', '/orgs/a/teams/b/projects/c/files/d/e/f/g'])
    for (const routePath of fullPaths(manifest.routes)) for (const url of urlsFor(routePath)) urls.add(url)
    for (const url of urls) assertSameRender(manifest, url)

    // The project files page keeps a handful of its fifty-odd routes.
    const pruned = assertSameRender(manifest, '/orgs/acme/teams/web/projects/site/files')
    assert.ok(Object.keys(pruned.routes).length < Object.keys(manifest.routes).length / 3, Object.keys(pruned.routes).join('\n'))
    assert.ok(pruned.routes['routes/orgs.$org_.teams.$team_.projects.$project.files._index'])
    assert.equal(pruned.routes['routes/orgs.$org_.teams.$team_.projects.$project.settings'], undefined)
  })

  test('made-up tables: equal ranks, splats, optional segments, pathless layouts, case and unusual characters', () => {
    const manifest = manifestOf([
      route('root', undefined, ''),
      route('index', 'root', undefined, { index: true }),
      // Two siblings of the same rank: the first in the manifest wins, with or without the others.
      route('first', 'root', 'docs/:a'),
      route('second', 'root', 'docs/:b'),
      route('literal', 'root', 'docs/intro'),
      route('splat', 'root', 'files/*'),
      route('files-new', 'root', 'files/new'),
      route('optional', 'root', 'lang?/about'),
      route('layout', 'root', undefined),
      route('in-layout', 'layout', 'settings'),
      route('in-layout-index', 'layout', 'account', { index: true }),
      route('cased', 'root', 'Exact', { caseSensitive: true }),
      route('exact-lower', 'root', 'exact'),
      route('spaced', 'root', 'with space/:x'),
      route('dotted', 'root', 'feed.xml'),
      route('deep', 'root', 'a/b/c/d'),
      route('deep-param', 'root', 'a/:x/c/:y'),
      route('absolute', 'root', '/abs/:x'),
    ])
    const urls = [
      '/',
      '/docs',
      '/docs/intro',
      '/docs/other',
      '/DOCS/INTRO',
      '/files',
      '/files/new',
      '/files/a/b/c',
      '/about',
      '/lang/about',
      '/en/about',
      '/settings',
      '/account',
      '/exact',
      '/Exact',
      '/EXACT',
      '/with%20space/1',
      '/feed.xml',
      '/feed.XML',
      '/a/b/c/d',
      '/a/x/c/y',
      '/a/b/c/y',
      '/a/b',
      '/abs/1',
      '/nope/nope',
      '/docs//intro',
      '/docs/%ZZ',
    ]
    for (const url of urls) assertSameRender(manifest, url)
    const docs = assertSameRender(manifest, '/docs/other')
    assert.deepEqual(Object.keys(docs.routes), [
      'root',
      'index',
      'first',
      'second',
      'splat',
      'optional',
      'layout',
      'cased',
      'spaced',
      'absolute',
    ])
  })

  test('a manifest with nothing to leave out is handed over as it is', () => {
    const manifest = manifestOf([route('root', undefined, ''), route('index', 'root', undefined, { index: true })])
    assert.equal(manifestForRender(manifest, '/', ['root', 'index']), manifest)
    assert.equal(manifestForRender(manifest, '/a//b', ['root']), manifest)
  })
})

import { createHash } from 'node:crypto'
import AxeBuilder from '@axe-core/playwright'
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test'

/** Set on <body> once the page as it stands has been checked; cleared when the page changes. */
export const CHECKED_ATTRIBUTE = 'data-a11y-checked'

/**
 * With JavaScript on, a page changes without a new document (client navigations, form errors):
 * any change of the body's elements clears the mark, so the changed page is checked again.
 */
function clearMarkOnChange(attribute: string) {
  new MutationObserver((records) => {
    if (records.some((record) => record.type === 'childList')) document.body?.removeAttribute(attribute)
  }).observe(document, { childList: true, subtree: true })
}

/** Ids on the page that more than one element carries. */
async function duplicateIds(page: Page) {
  return page.evaluate(() => {
    const seen = new Map<string, number>()
    for (const element of document.querySelectorAll('[id]')) seen.set(element.id, (seen.get(element.id) ?? 0) + 1)
    return [...seen].filter(([, count]) => count > 1).map(([id, count]) => `#${id} (${count} elements)`)
  })
}

/**
 * axe cannot run inside a page whose JavaScript is off (Chromium closes the page when a script
 * there awaits anything), so a no-JS page's DOM is checked as a copy, its scripts removed, in a
 * JavaScript-enabled page at the same URL with the same stylesheet and viewport. One such page
 * serves a whole test.
 */
export function scriptlessCopier(browser: Browser) {
  const serve = { url: '', html: '' }
  let opened: Promise<Page> | undefined
  const open = async () => {
    const context: BrowserContext = await browser.newContext({ javaScriptEnabled: true })
    const page = await context.newPage()
    // The copied document and its stylesheet only: images and the rest stay away from the server.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (url.href === serve.url) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: serve.html })
      return url.pathname.endsWith('.css') ? route.continue() : route.abort()
    })
    return page
  }
  return {
    async copy(page: Page): Promise<Page> {
      // The handler can fire as soon as a new document's <body> exists: copy it once it has fully arrived.
      await page.waitForLoadState('load')
      const target = await (opened ??= open())
      serve.html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '').replace(/<link\b[^>]*rel="modulepreload"[^>]*>/gi, '')
      serve.url = page.url().split('#')[0]!
      const viewport = page.viewportSize()
      if (viewport) await target.setViewportSize(viewport)
      await target.goto(serve.url, { waitUntil: 'load' })
      return target
    },
    async close() {
      if (opened) await (await opened).context().close()
    },
  }
}

export interface AccessibilityOptions {
  javaScriptEnabled: boolean
  copier: ReturnType<typeof scriptlessCopier>
}

/** Documents axe found clean in this worker, by a hash of what it analysed. */
const cleanStates = new Set<string>()

/** Waits until Remix has no navigation, revalidation or fetcher in flight and the result is painted. */
async function settle(page: Page) {
  await page.waitForFunction(() => {
    const router = (
      window as { __remixRouter?: { state: { navigation: { state: string }; revalidation: string; fetchers: Map<string, { state: string }> } } }
    ).__remixRouter
    if (!router) return true
    const { navigation, revalidation, fetchers } = router.state
    return navigation.state === 'idle' && revalidation === 'idle' && [...fetchers.values()].every((fetcher) => fetcher.state === 'idle')
  })
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
}

/**
 * Fails when the page as it stands has duplicate ids or any axe violation (all of axe's default
 * rules: WCAG 2.x A/AA and best practices).
 */
export async function expectAccessible(page: Page, options: AccessibilityOptions) {
  if (options.javaScriptEnabled) await settle(page)
  const where = new URL(page.url()).pathname
  expect(await duplicateIds(page), `duplicate ids on ${where}`).toEqual([])

  // The same document (markup, and the one stylesheet and viewport) gets the same verdict from axe:
  // a state already found clean in this run is not analysed again (about a quarter of them).
  if (!options.javaScriptEnabled) await page.waitForLoadState('load')
  const state = createHash('sha256')
    .update(`${options.javaScriptEnabled}|${JSON.stringify(page.viewportSize())}|${new URL(page.url()).href.split('#')[0]}|`)
    .update((await page.content()).replace(/\snonce="[^"]*"/g, ''))
    .digest('hex')
  if (!cleanStates.has(state)) {
    const target = options.javaScriptEnabled ? page : await options.copier.copy(page)
    // Passes and incomplete checks are not reported node by node: only violations are read.
    const results = await new AxeBuilder({ page: target })
      .setLegacyMode(true)
      .options({ resultTypes: ['violations'] })
      .analyze()
    const violations = results.violations.map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary?.replace(/\s+/g, ' ')}`).join('\n    ')}`,
    )
    expect(violations, `axe violations on ${where}`).toEqual([])
    cleanStates.add(state)
  }
  await page.evaluate((attribute) => document.body.setAttribute(attribute, ''), CHECKED_ATTRIBUTE)
}

/**
 * Checks every page state the test reaches: before the test's next action or assertion on a page
 * not yet checked (a new document, or with JavaScript a changed one), Playwright runs the check.
 */
export async function watchAccessibility(page: Page, options: AccessibilityOptions) {
  if (options.javaScriptEnabled) await page.addInitScript(clearMarkOnChange, CHECKED_ATTRIBUTE)
  await page.addLocatorHandler(page.locator(`body:not([${CHECKED_ATTRIBUTE}])`), () => expectAccessible(page, options), { noWaitAfter: true })
}

/** The last page state of a test (no action follows it), if it was not checked yet. */
export async function expectLastPageAccessible(page: Page, options: AccessibilityOptions) {
  if (page.isClosed() || page.url() === 'about:blank') return
  const checked = await page.evaluate((attribute) => document.body.hasAttribute(attribute), CHECKED_ATTRIBUTE)
  if (!checked) await expectAccessible(page, options)
}

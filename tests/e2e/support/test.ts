import { test as base, type Page } from '@playwright/test'
import { expectAccessible, expectLastPageAccessible, scriptlessCopier, watchAccessibility, type AccessibilityOptions } from './accessibility'

export { expect } from '@playwright/test'

/**
 * The browser tests' `test`: every page a test visits (its own, and those of `newVisitor`) is checked
 * for duplicate ids and axe violations, in both projects (see ./accessibility.ts).
 */
export const test = base.extend<{
  accessibility: AccessibilityOptions
  checkAccessibility: () => Promise<void>
  newVisitor: () => Promise<Page>
}>({
  accessibility: async ({ browser, javaScriptEnabled }, use) => {
    const options = { javaScriptEnabled: javaScriptEnabled !== false, copier: scriptlessCopier(browser) }
    await use(options)
    await options.copier.close()
  },
  /**
   * Checks `page` now, outside any assertion's timeout: for a page so large (the API reference)
   * that axe needs longer than an assertion waits.
   */
  checkAccessibility: async ({ page, accessibility }, use) => {
    await use(() => expectAccessible(page, accessibility))
  },
  page: async ({ page, accessibility: options }, use, testInfo) => {
    await watchAccessibility(page, options)
    await use(page)
    if (testInfo.status === testInfo.expectedStatus) await expectLastPageAccessible(page, options)
  },
  /** A second person in their own browser context (cookies apart), watched like `page`. */
  newVisitor: async ({ browser, contextOptions, accessibility: options }, use, testInfo) => {
    const visitors: Page[] = []
    await use(async () => {
      const context = await browser.newContext({
        ...contextOptions,
        javaScriptEnabled: options.javaScriptEnabled,
        baseURL: testInfo.project.use.baseURL,
      })
      const visitor = await context.newPage()
      await watchAccessibility(visitor, options)
      visitors.push(visitor)
      return visitor
    })
    for (const visitor of visitors) {
      if (testInfo.status === testInfo.expectedStatus) await expectLastPageAccessible(visitor, options)
      await visitor.context().close()
    }
  },
})

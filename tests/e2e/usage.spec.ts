import { readFile } from 'node:fs/promises'
import { expect, test } from '@playwright/test'
import { registerAndOnboard } from './support/onboarding'

test('usage pages chart a project, its team and organization as SVG with text summaries and tables, filter by a GET form and download CSV', async ({
  page,
}) => {
  const { projectUrl, teamUrl, organizationUrl } = await registerAndOnboard(page, {
    label: 'usage',
    person: 'Ursula Usage',
    organization: 'Usage',
    project: 'Metered',
  })

  await test.step('an upload through the dashboard is metered', async () => {
    await page.goto(`${projectUrl}/files/upload`)
    await page
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'metered.txt', mimeType: 'text/plain', buffer: Buffer.from('counted bytes\n') })
    await page.getByRole('button', { name: 'Upload' }).click()
    await expect(page.getByText(/Uploaded metered\.txt/)).toBeVisible()
  })

  await test.step('the project Usage page shows the upload once the counts are flushed', async () => {
    await expect(page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Usage' })).toHaveAttribute(
      'href',
      `${projectUrl}/usage`,
    )
    await page.goto(`${projectUrl}/usage`)
    await expect(async () => {
      await page.reload()
      await expect(page.locator('dt:text-is("Uploads") + dd')).toHaveText('1', { timeout: 1000 })
    }).toPass({ timeout: 20_000 })
    await expect(page.locator('dt:text-is("Uploads") ~ dd').nth(1)).toHaveText('14 bytes')
  })

  await test.step('each chart is an SVG image with a title, a text summary and a data table', async () => {
    const trend = page.getByRole('figure', { name: 'Activity per day' })
    await expect(trend.getByRole('img', { name: /Line chart of API requests, uploads/ })).toBeVisible()
    await expect(trend.locator('figcaption')).toContainText('1 uploads')
    await trend.getByText('Show the data as a table').click()
    const today = new Date().toISOString().slice(0, 10)
    await expect(
      trend
        .getByRole('row', { name: new RegExp(`^${today}`) })
        .getByRole('cell')
        .nth(1),
    ).toHaveText('1')

    const breakdown = page.getByRole('figure', { name: 'Breakdown by tenant' })
    await expect(breakdown.getByRole('img', { name: 'Bar chart of activity by tenant' })).toBeVisible()
    await breakdown.getByText('Show the data as a table').click()
    await expect(breakdown.getByRole('row', { name: /^No tenant/ })).toBeVisible()
    await expect(page.getByRole('heading', { name: 'Estimated storage cost' })).toBeVisible()
  })

  await test.step('the GET form changes granularity and grouping; bad dates are reported, not fatal', async () => {
    await page.getByLabel('Granularity').selectOption('hour')
    await page.getByLabel('Break down by').selectOption('operation')
    await page.getByRole('button', { name: 'Show usage' }).click()
    await expect(page).toHaveURL(/granularity=hour/)
    await expect(page.getByRole('figure', { name: 'Activity per hour' })).toBeVisible()
    const operations = page.getByRole('figure', { name: 'Breakdown by operation' })
    await operations.getByText('Show the data as a table').click()
    await expect(
      operations
        .getByRole('row', { name: /^Uploads/ })
        .getByRole('cell')
        .first(),
    ).toHaveText('1')

    await page.goto(`${projectUrl}/usage?from=2026-02-01&to=2026-01-01`)
    await expect(page.getByRole('alert')).toContainText('from: must be before `to`')
    await expect(page.getByRole('figure', { name: 'Activity per day' })).toBeVisible()
  })

  await test.step('the CSV download has one row per day with every metric', async () => {
    await page.goto(`${projectUrl}/usage`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /usage as CSV/ }).click()])
    expect(download.suggestedFilename()).toMatch(/^carcosa-usage-project-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/)
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n')
    expect(lines[0]).toBe(
      'start,uploads,uploadBytes,downloads,downloadBytes,transforms,transformCacheHits,transformBytes,transformMs,apiRequests,rateLimited',
    )
    expect(lines).toHaveLength(31)
    expect(lines.some((line) => /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z,1,14,/.test(line))).toBe(true)
  })

  await test.step('team and organization pages add up their projects', async () => {
    for (const [url, navigation] of [
      [teamUrl, 'Team'],
      [organizationUrl, 'Organization'],
    ] as const) {
      await page.goto(url)
      await page.getByRole('navigation', { name: navigation }).getByRole('link', { name: 'Usage' }).click()
      await expect(page.locator('dt:text-is("Uploads") + dd')).toHaveText('1')
      const breakdown = page.getByRole('figure', { name: 'Breakdown by project' })
      await breakdown.getByText('Show the data as a table').click()
      await expect(breakdown.getByRole('row', { name: /^Metered/ })).toBeVisible()
    }
  })
})

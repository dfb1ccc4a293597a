import { expect, test } from '@playwright/test'
import { registerAndOnboard } from './support/onboarding'

// Live progress is what JavaScript adds; without it both pages work as before (uploads.spec.ts, files.spec.ts).
test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'live updates need JavaScript')

test('the upload page shows the server phases, and the file browser shows a file arriving from elsewhere without a reload', async ({
  page,
  context,
}) => {
  const { projectUrl } = await registerAndOnboard(page, { label: 'live', person: 'Lena Live', organization: 'Live', project: 'Stream' })

  await test.step('the file browser listens to the project', async () => {
    await page.goto(`${projectUrl}/files`)
    await expect(page.locator('[data-live="on"]')).toBeAttached()
  })

  const uploader = await context.newPage()
  await test.step('another tab uploads through the form and sees uploading, verifying and done', async () => {
    await uploader.goto(`${projectUrl}/files/upload`)
    await expect(uploader.locator('form[data-live="on"]')).toBeAttached()
    // Steps can pass quickly on loopback: record every step the page marks reached.
    await uploader.evaluate(() => {
      const seen: string[] = []
      ;(window as unknown as { steps: string[] }).steps = seen
      new MutationObserver(() => {
        for (const element of document.querySelectorAll('[data-step][data-reached]')) {
          const step = element.getAttribute('data-step')
          if (step && !seen.includes(step)) seen.push(step)
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true })
    })
    await uploader
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'live.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2 * 1024 * 1024, 9) })
    await uploader.getByRole('button', { name: 'Upload' }).click()
    await expect(uploader.getByText(/Uploaded live\.bin as/)).toBeVisible()
    const steps = await uploader.evaluate(() => (window as unknown as { steps: string[] }).steps)
    expect(steps.slice(0, 2)).toEqual(['uploading', 'verifying'])
  })

  await test.step('the first tab lists the new file without a reload', async () => {
    await expect(page.getByRole('link', { name: 'live.bin', exact: true })).toBeVisible({ timeout: 10_000 })
  })
})

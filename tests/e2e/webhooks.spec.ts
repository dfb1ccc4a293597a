import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { expect, test } from './support/test'
import { registerAndOnboard } from './support/onboarding'

interface Received {
  headers: http.IncomingHttpHeaders
  body: string
}

/** A local receiver on 127.0.0.1 (private targets are allowed outside production) that answers 200, or 500 while `failing`. */
async function startReceiver() {
  const received: Received[] = []
  const state = { failing: false }
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      if (state.failing) response.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down')
      else response.writeHead(200, { 'content-type': 'text/plain' }).end('receiver says thanks')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return { url, received, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

test('a webhook endpoint is added, its secret shown once, tested, logged, replayed, disabled and deleted', async ({ page }) => {
  const receiver = await startReceiver()
  try {
    await registerAndOnboard(page, { label: 'hooks', person: 'Wanda Hooks', organization: 'Hooks', project: 'Media' })
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Webhooks' }).click()
    await expect(page.getByText('No webhook endpoints in this project yet.')).toBeVisible()

    await test.step('a bad URL is refused beside its field', async () => {
      await page.getByLabel('URL', { exact: true }).fill('ftp://example.com/hooks')
      await page.getByRole('button', { name: 'Add endpoint' }).click()
      await expect(page.getByRole('alert').filter({ hasText: 'Nothing was changed: one field below needs attention.' })).toBeVisible()
      await expect(page.getByText('No webhook endpoints in this project yet.')).toBeVisible()
    })

    const row = page.getByRole('listitem').filter({ has: page.locator('code', { hasText: receiver.url }) })
    const secret = await test.step('added, its signing secret is shown once beside it', async () => {
      await page.getByLabel('URL', { exact: true }).fill(receiver.url)
      await page.getByLabel('Description (optional)').fill('Local receiver')
      await page.getByRole('checkbox', { name: /^file\.uploaded\b/ }).check()
      await page.getByRole('button', { name: 'Add endpoint' }).click()
      await expect(page.getByText(`Webhook endpoint ${receiver.url} added.`)).toBeVisible()
      await expect(row).toContainText('Enabled')
      await expect(row).toContainText('file.uploaded')
      const value = await row.getByLabel('Signing secret (shown once: copy it now)').inputValue()
      expect(value).toMatch(/^whsec_/)
      await page.reload()
      await expect(page.getByLabel('Signing secret (shown once: copy it now)')).toHaveCount(0)
      await expect(page.locator('body')).not.toContainText(value)
      return value
    })

    await test.step('a test event reaches the receiver and shows in the delivery log', async () => {
      await row.getByRole('button', { name: 'Send test event to Local receiver' }).click()
      await expect(page.getByText('Test event queued')).toBeVisible()
      const log = page.getByRole('region', { name: /Delivery log of/ })
      await expect(async () => {
        await page.reload()
        await expect(log.getByRole('row').filter({ hasText: 'webhook.test' })).toContainText('Succeeded', { timeout: 10_000 })
      }).toPass({ timeout: 60_000 })
      const entry = log.getByRole('row').filter({ hasText: 'webhook.test' })
      await expect(entry).toContainText('200')
      await expect(entry).toContainText(' ms')
      await expect(entry).toContainText('receiver says thanks')
      expect(receiver.received).toHaveLength(1)
      const delivered = receiver.received[0]!
      expect(JSON.parse(delivered.body).type).toBe('webhook.test')
      expect(delivered.headers['webhook-signature']).toMatch(/^v1,/)
      // A third-party Standard Webhooks verifier accepts it with the secret the page showed.
      const verified = new Webhook(secret).verify(delivered.body, delivered.headers as Record<string, string>) as { type: string }
      expect(verified.type).toBe('webhook.test')
    })

    await test.step('a delivery is replayed with the same webhook-id', async () => {
      const log = page.getByRole('region', { name: /Delivery log of/ })
      await log.getByRole('button', { name: /^Replay webhook\.test delivery/ }).click()
      await expect(page.getByText('Delivery queued again with the same webhook-id.')).toBeVisible()
      await expect.poll(() => receiver.received.length, { timeout: 60_000 }).toBe(2)
      expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id'])
    })

    await test.step('disabled, it says so and refuses test events', async () => {
      await row.getByText('Edit or delete').click()
      await row.getByLabel('Enabled (deliver events to this endpoint)').uncheck()
      await row.getByRole('button', { name: 'Save endpoint' }).click()
      await expect(page.getByText(`Webhook endpoint ${receiver.url} saved (disabled).`)).toBeVisible()
      await expect(row).toContainText('Disabled')
      await row.getByRole('button', { name: 'Send test event to Local receiver' }).click()
      await expect(page.getByRole('alert').filter({ hasText: 'This endpoint is disabled; enable it to send a test event.' })).toBeVisible()
    })

    await test.step('deleting asks for the box, then removes the endpoint', async () => {
      await row.getByText('Edit or delete').click()
      await row.getByRole('button', { name: 'Delete endpoint' }).click()
      await expect(page.getByText('Tick the box to confirm that the endpoint should be deleted')).toBeVisible()
      await expect(row).toHaveCount(1)
      await row.getByRole('checkbox', { name: /Yes, delete the endpoint/ }).check()
      await row.getByRole('button', { name: 'Delete endpoint' }).click()
      await expect(page.getByText('Webhook endpoint deleted with its delivery log.')).toBeVisible()
      await expect(page.getByText('No webhook endpoints in this project yet.')).toBeVisible()
    })
  } finally {
    await receiver.close()
  }
})

test('every delivery that failed since a time is replayed from the Webhooks tab', async ({ page }) => {
  const receiver = await startReceiver()
  receiver.state.failing = true
  try {
    await registerAndOnboard(page, { label: 'replays', person: 'Rita Replay', organization: 'Replays', project: 'Media' })
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Webhooks' }).click()
    await page.getByLabel('URL', { exact: true }).fill(receiver.url)
    await page.getByLabel('Description (optional)').fill('Flaky receiver')
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    await expect(page.getByText(`Webhook endpoint ${receiver.url} added.`)).toBeVisible()
    await page.getByRole('button', { name: 'Send test event to Flaky receiver' }).click()
    await expect(page.getByText('Test event queued')).toBeVisible()

    // WEBHOOK_RETRY_DELAYS_SECONDS is 1 for browser tests: two attempts, then the delivery has failed.
    await expect.poll(() => receiver.received.length, { timeout: 60_000 }).toBe(2)
    const log = page.getByRole('region', { name: /Delivery log of/ })
    // Each reload is checked for accessibility before the assertion: the inner wait leaves room for it,
    // so a retry never reloads under a running check.
    await expect(async () => {
      await page.reload()
      await expect(log.getByRole('row').filter({ hasText: 'Failed, 2 attempts' })).toContainText('receiver is down', { timeout: 10_000 })
    }).toPass({ timeout: 90_000 })

    receiver.state.failing = false
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString().slice(0, 16)
    await log.getByLabel('Failed since (UTC)').fill(tenMinutesAgo)
    await log.getByRole('button', { name: /^Replay failed deliveries/ }).click()
    await expect(page.getByText(`1 failed delivery since ${tenMinutesAgo}:00.000Z queued again, each with its webhook-id.`)).toBeVisible()
    await expect.poll(() => receiver.received.length, { timeout: 60_000 }).toBe(3)
    expect(receiver.received[2]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id'])
  } finally {
    await receiver.close()
  }
})

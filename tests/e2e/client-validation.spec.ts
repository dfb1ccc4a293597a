import { expect, test } from './support/test'

// Runs in the JavaScript project only: the same zod schema validates in the browser, before any request.
test('with JavaScript, forms validate in the browser without a round trip', async ({ page }) => {
  const posts: string[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST') posts.push(request.url())
  })
  await page.goto('/register')
  await page.getByLabel('Email').fill('not-an-email')
  await page.getByLabel('Password').fill('short')
  await page.getByLabel('Password').blur()
  await expect(page.getByText('Enter a valid email address')).toBeVisible()
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByText('Name is required')).toBeVisible()
  await expect(page.getByText('Password must be at least 8 characters')).toBeVisible()
  expect(posts).toEqual([])
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true')
})

import { expect, test } from './support/test'

test('account: rename, change password (other sessions end), revoke a session, change email', async ({ page, newVisitor }) => {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
  const email = `acct-${id}@example.com`
  await page.goto('/register')
  await page.getByLabel('Name').fill('Ada Account')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('first password')
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByRole('heading', { name: 'Set up your workspace' })).toBeVisible()

  // A second browser signs in too.
  const otherPage = await newVisitor()
  await otherPage.goto('/login')
  await otherPage.getByLabel('Email').fill(email)
  await otherPage.getByLabel('Password').fill('first password')
  await otherPage.getByRole('button', { name: 'Sign in' }).click()
  await expect(otherPage.getByRole('heading', { name: 'Set up your workspace' })).toBeVisible()

  await page.goto('/account')
  await expect(page.getByRole('button', { name: 'Revoke session' })).toHaveCount(1)
  await page.getByLabel('Name').fill('Ada Lovelace')
  await page.getByRole('button', { name: 'Save name' }).click()
  await expect(page.getByText('Name saved.')).toBeVisible()
  await expect(page.getByLabel('Name')).toHaveValue('Ada Lovelace')

  const passwordCard = page.getByRole('region', { name: 'Password' })
  await passwordCard.getByLabel('Current password', { exact: true }).fill('wrong password')
  await passwordCard.getByLabel('New password', { exact: true }).fill('second password')
  await passwordCard.getByLabel('Repeat new password').fill('second password')
  await passwordCard.getByRole('button', { name: 'Change password' }).click()
  await expect(page.getByText('Current password is incorrect')).toBeVisible()

  await passwordCard.getByLabel('Current password', { exact: true }).fill('first password')
  await passwordCard.getByLabel('New password', { exact: true }).fill('second password')
  await passwordCard.getByLabel('Repeat new password').fill('second password')
  await passwordCard.getByRole('button', { name: 'Change password' }).click()
  await expect(page.getByText('Password changed. Your other sessions were signed out.')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Revoke session' })).toHaveCount(0)

  await otherPage.goto('/account')
  await expect(otherPage.getByRole('heading', { name: 'Sign in to Carcosa' })).toBeVisible()
  await otherPage.getByLabel('Email').fill(email)
  await otherPage.getByLabel('Password').fill('second password')
  await otherPage.getByRole('button', { name: 'Sign in' }).click()
  await expect(otherPage.getByRole('heading', { name: 'Your account' })).toBeVisible()

  await page.reload()
  await page.getByRole('button', { name: 'Revoke session' }).click()
  await expect(page.getByText('Session revoked.')).toBeVisible()
  await otherPage.reload()
  await expect(otherPage.getByRole('heading', { name: 'Sign in to Carcosa' })).toBeVisible()

  const emailCard = page.getByRole('region', { name: 'Email' })
  await emailCard.getByLabel('New email').fill(`renamed-${id}@example.com`)
  await emailCard.getByLabel('Current password', { exact: true }).fill('second password')
  await emailCard.getByRole('button', { name: 'Change email' }).click()
  await expect(page.getByText(`Email changed to renamed-${id}@example.com.`)).toBeVisible()
})

test('sign-in is throttled after five failures for an account and address', async ({ page }) => {
  const email = `throttle-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`
  await page.goto('/register')
  await page.getByLabel('Name').fill('Tess Throttle')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('the real password')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('button', { name: 'Sign out' }).click()

  for (let attempt = 1; attempt <= 5; attempt++) {
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(`wrong ${attempt}`)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert')).toContainText('Email or password is incorrect')
  }
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('the real password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toContainText('Too many failed sign-in attempts. Try again in 15 minutes.')
})

import { expect, test } from '@playwright/test';
import { acmeOwner, consultant, demoPassword, mailedLink, onPhone, signIn, uniqueName } from './helpers';

test('owner invites a member, who joins through the emailed link, then loses access on deactivation', async ({ browser }) => {
  const owner = await browser.newPage();
  await signIn(owner, acmeOwner);
  await owner.getByRole('link', { name: 'Team' }).click();
  await expect(owner).toHaveURL(/\/team$/);
  const email = `new-${Date.now()}@acme.test`;
  const name = uniqueName('New Member');
  const inviteForm = owner.locator('form[action="/team"]');
  await inviteForm.getByLabel('Name').fill(name);
  await inviteForm.getByLabel('Email').fill(email);
  await inviteForm.getByLabel('Role').selectOption('member');
  await owner.getByRole('button', { name: 'Send invitation' }).click();
  await expect(owner.getByTestId('notice')).toContainText('The invitation was sent');
  await expect(owner.getByTestId('invitation').filter({ hasText: email })).toBeVisible();

  // The invitee opens the link from their inbox and chooses their own password.
  const member = await browser.newPage();
  await member.goto(await mailedLink(member, email, '/invitations/'));
  await expect(member.getByRole('heading', { name: /^Join / })).toBeVisible();
  await member.locator('#f-new_password').fill('my-very-own-password');
  await member.getByLabel('Confirm new password').fill('my-very-own-password');
  await member.getByRole('button', { name: 'Accept and join' }).click();
  await expect(member).toHaveURL(/\/customers$/);
  await expect(member.getByTestId('customer-row').first()).toBeVisible();
  await expect(member.getByRole('link', { name: 'Team' })).toHaveCount(0);
  for (const path of ['/team', '/audit']) {
    const res = await member.goto(path);
    expect(res?.status()).toBe(404);
    await expect(member.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  }
  await member.goto('/customers');

  await owner.reload();
  const row = owner.getByTestId('team-row').filter({ hasText: email });
  await expect(owner.getByTestId('invitation').filter({ hasText: email })).toHaveCount(0);
  await row.getByRole('button', { name: `Deactivate ${name}` }).click();
  await expect(owner.getByTestId('notice')).toContainText('It applies from their next click');
  await expect(row.getByTestId('team-status')).toHaveText('deactivated');

  // The member's open page: the next click (an htmx request) lands on sign-in.
  await member.getByTestId('pager-next').click();
  await expect(member).toHaveURL(/\/login/);
  await member.getByLabel('Email').fill(email);
  await member.getByLabel('Password').fill('my-very-own-password');
  await member.getByRole('button', { name: 'Sign in' }).click();
  await expect(member.getByRole('alert')).toHaveText('The email or password is incorrect.');
});

test('a person in two organizations chooses one at sign-in, and each shows only its own', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill(consultant);
  await page.getByLabel('Password').fill(demoPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login\/organization$/);
  const choices = page.getByTestId('choose');
  await expect(choices).toHaveCount(2);
  await choices.filter({ hasText: 'Globex' }).click();
  await expect(page).toHaveURL(/\/customers$/);
  await expect(page.getByRole('link', { name: 'Cypress Creek' })).toBeVisible();
  await expect(page.getByText('Anvil Works')).toHaveCount(0);
});

test('a person sees and ends their own sessions', async ({ browser }, testInfo) => {
  test.skip(onPhone(testInfo), 'a server rule about sessions (the account page is checked on the phone in a11y.spec.ts)');
  const first = await browser.newPage();
  await signIn(first, acmeOwner);
  const second = await browser.newPage();
  await signIn(second, acmeOwner);
  await first.getByTestId('signed-in-as').click();
  await expect(first).toHaveURL(/\/account$/);
  const rows = first.getByTestId('session-row');
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  await first.getByRole('button', { name: 'End all other sessions' }).click();
  await expect(first.getByTestId('notice')).toHaveText('The session was ended.');
  await expect(rows).toHaveCount(1);
  await second.reload();
  await expect(second).toHaveURL(/\/login/);
});

import { expect, test } from '@playwright/test';
import { acmeOwner, onPhone, signIn, uniqueName } from './helpers';

test('owner adds a member, who must choose a password, then loses access on deactivation', async ({ browser }) => {
  const owner = await browser.newPage();
  await signIn(owner, acmeOwner);
  await owner.getByRole('link', { name: 'Team' }).click();
  await expect(owner).toHaveURL(/\/team$/);
  const email = `new-${Date.now()}@acme.test`;
  const name = uniqueName('New Member');
  const addForm = owner.locator('form[action="/team"]');
  await addForm.getByLabel('Name').fill(name);
  await addForm.getByLabel('Email').fill(email);
  await addForm.getByLabel('Role').selectOption('member');
  await addForm.getByLabel('First password').fill('first-password-42');
  await owner.getByRole('button', { name: 'Add person' }).click();
  await expect(owner.getByTestId('notice')).toContainText('The person was added');
  const row = owner.getByTestId('team-row').filter({ hasText: email });
  await expect(row.getByTestId('team-status')).toHaveText('first password');

  const member = await browser.newPage();
  await member.goto('/login');
  await member.getByLabel('Email').fill(email);
  await member.getByLabel('Password').fill('first-password-42');
  await member.getByRole('button', { name: 'Sign in' }).click();
  await expect(member).toHaveURL(/\/account\/password$/);
  await expect(member.getByTestId('must-change')).toBeVisible();
  await member.goto('/customers');
  await expect(member).toHaveURL(/\/account\/password$/);
  await member.getByLabel('Current password').fill('first-password-42');
  await member.locator('#f-new_password').fill('my-very-own-password');
  await member.getByLabel('Confirm new password').fill('my-very-own-password');
  await member.getByRole('button', { name: 'Change password' }).click();
  await expect(member.getByTestId('notice')).toContainText('Your password was changed');

  await member.getByRole('link', { name: 'Customers' }).click();
  await expect(member.getByTestId('customer-row').first()).toBeVisible();
  await expect(member.getByRole('link', { name: 'Team' })).toHaveCount(0);
  for (const path of ['/team', '/audit']) {
    const res = await member.goto(path);
    expect(res?.status()).toBe(404);
    await expect(member.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  }
  await member.goto('/customers');

  await owner.reload();
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

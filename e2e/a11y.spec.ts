import { expect, test } from '@playwright/test';
import { acmeOwner, consultant, demoPassword, expectAccessible, openFilters, seriousViolations, settled, signIn } from './helpers';

// axe on every page of the app, in light and dark colour schemes, on both viewports. Serious and
// critical violations fail (softly: each page and scheme is reported). Pages are grouped so a
// test signs in once.

test.describe.configure({ timeout: 90_000 });

test('a11y: sign in, sign up, and their errors', async ({ page }) => {
  await page.goto('/login');
  await expectAccessible(page, 'sign in');
  await page.getByLabel('Email').fill(acmeOwner);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expectAccessible(page, 'sign in with an error');
  await page.goto('/signup');
  await expectAccessible(page, 'sign up');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByTestId('error-password')).toBeVisible();
  await expectAccessible(page, 'sign up with errors');
  for (const [path, what] of [
    ['/signup/sent', 'check your inbox'],
    ['/password/forgot', 'forgotten password'],
    ['/password/reset/not-a-real-token', 'choose a new password'],
  ]) {
    await page.goto(path);
    await expectAccessible(page, what);
  }
  const res = await page.goto('/invitations/not-a-real-token');
  expect(res?.status()).toBe(410);
  await expectAccessible(page, 'a link that no longer works');
});

test('a11y: choosing an organization', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill(consultant);
  await page.getByLabel('Password').fill(demoPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login\/organization$/);
  await expectAccessible(page, 'choosing an organization');
});

test('a11y: the customer list, filtered, empty, and a bulk confirmation', async ({ page }) => {
  await signIn(page, acmeOwner);
  await expect(page.getByTestId('customer-row').first()).toBeVisible();
  await expectAccessible(page, 'the customer list');
  await page.getByTestId('quick-filters').getByRole('link', { name: '#VIP' }).click();
  await expect(page).toHaveURL(/tag=/);
  await openFilters(page);
  await page.locator('#filter-kind').selectOption('person');
  await expect(page).toHaveURL(/kind=person/);
  await expectAccessible(page, 'the filtered list');
  await page.getByTestId('column-chooser').getByText('Columns', { exact: true }).click();
  await expectAccessible(page, 'the list with the Columns popover open');
  // Hovered controls keep their contrast too (a hover colour is easy to miss in the dark scheme).
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.getByTestId('column-chooser').getByText('Columns', { exact: true }).hover();
    const lines = await seriousViolations(page, ['color-contrast']);
    expect.soft(lines, `axe: contrast of the hovered Columns button (${colorScheme}):\n  ${lines.join('\n  ')}`).toEqual([]);
  }
  await page.keyboard.press('Escape');
  await page.getByTestId('customer-row').first().getByRole('checkbox').check();
  await page.locator('#bulk-action').selectOption('trash');
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Apply…' }).click();
  await expect(page.getByTestId('bulk-confirm')).toBeVisible();
  await expectAccessible(page, 'the bulk confirmation');
  await page.goto('/customers?q=no+such+customer+anywhere');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expectAccessible(page, 'the empty list');
});

test('a11y: new customer (and its 422 state), customer page, edit', async ({ page }) => {
  await signIn(page, acmeOwner);
  await page.goto('/customers/new');
  await expectAccessible(page, 'the new customer form');
  await page.getByRole('button', { name: 'Save customer' }).click();
  await expect(page.getByTestId('error-name')).toBeVisible();
  await settled(page);
  await page.getByLabel('Email 1', { exact: true }).fill('not an email');
  await page.getByRole('button', { name: 'Save customer' }).click();
  await expect(page.getByTestId('error-email')).toBeVisible();
  await expectAccessible(page, 'the new customer form with errors (422)');
  await page.goto('/customers?q=ada+byrne');
  await page.getByRole('link', { name: 'Ada Byrne', exact: true }).click();
  await expect(page.getByTestId('timeline-note').first()).toBeVisible();
  await expectAccessible(page, 'a customer page with notes and timeline');
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await expectAccessible(page, 'the edit form');
});

test('a11y: trash, tags, team, account, password, audit trail, 404', async ({ page }) => {
  await signIn(page, acmeOwner);
  for (const [path, what] of [
    ['/customers/trash', 'the trash'],
    ['/tags', 'the tags page'],
    ['/team', 'the team page'],
    ['/account', 'the account page'],
    ['/audit', 'the audit trail'],
  ]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(200);
    await expectAccessible(page, what);
  }
  await page.goto('/tags');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByTestId('error-name')).toBeVisible();
  await expectAccessible(page, 'the tags page with an error');
  const res = await page.goto('/customers/00000000-0000-4000-8000-000000000000');
  expect(res?.status()).toBe(404);
  await expectAccessible(page, 'the 404 page');
});

test('a11y: invoices: the list, an invoice, a credit note, the printable copy, the editor with errors', async ({ page }) => {
  await signIn(page, acmeOwner);
  await page.goto('/invoices');
  await expect(page.getByTestId('invoice-row').first()).toBeVisible();
  await expectAccessible(page, 'the invoice list');
  await page.goto('/invoices?overdue=1');
  await expectAccessible(page, 'the overdue invoices');
  await page.getByTestId('invoice-row').first().getByRole('link').first().click();
  await expect(page.getByTestId('invoice-title')).toHaveText(/^INV-/);
  await expectAccessible(page, 'an overdue invoice');
  await page.goto(page.url() + '/print');
  await expectAccessible(page, 'the printable invoice');
  await page.goto('/invoices?q=CN-');
  await page.getByTestId('invoice-row').first().getByRole('link').first().click();
  await expect(page.getByTestId('invoice-status')).toHaveText('Issued');
  await expectAccessible(page, 'a credit note');
  await page.goto('/invoices/new?q=anvil');
  await expectAccessible(page, 'choosing the customer of a new invoice');
  await page.getByTestId('customer-choice').first().click();
  await page.getByTestId('invoice-lines-editor').getByLabel('Unit price').fill('twelve');
  await page.getByRole('button', { name: 'Save draft' }).last().click();
  await expect(page.getByTestId('error-line_description[1]')).toBeVisible();
  await expectAccessible(page, 'the invoice editor with errors (422)');
});

test('a11y: inventory: the product list, a product with its ledger, the warehouses, the editor with errors', async ({ page }) => {
  await signIn(page, acmeOwner);
  await page.goto('/products');
  await expect(page.getByTestId('product-row').first()).toBeVisible();
  await expectAccessible(page, 'the product list');
  await page.getByTestId('product-row').filter({ hasText: 'ANV-100' }).getByRole('link').click();
  await expect(page.getByTestId('movement').first()).toBeVisible();
  await expectAccessible(page, 'a product with its stock and ledger');
  await page.goto('/warehouses');
  await expect(page.getByTestId('warehouse')).toHaveCount(2);
  await expectAccessible(page, 'the warehouses');
  await page.goto('/products/new');
  await page.getByLabel('Sale price').fill('free');
  await page.getByRole('button', { name: 'Save product' }).click();
  await expect(page.getByTestId('error-sku')).toBeVisible();
  await expectAccessible(page, 'the product editor with errors (422)');
});

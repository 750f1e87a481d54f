import { expect, test } from '@playwright/test';
import { acmeMember, acmeOwner, expectAccessible, signIn, uniqueName } from './helpers';

// An integrator's first steps, in the browser and with curl's requests: make a token, list,
// create with an Idempotency-Key and retry, read the reference.

test('an owner makes a token, a program uses it, and revoking it stops it', async ({ page, playwright, baseURL }) => {
  await signIn(page, acmeOwner);
  await page.getByRole('link', { name: 'API', exact: true }).click();
  await expect(page).toHaveURL(/\/settings\/api-tokens$/);
  await expectAccessible(page, 'API tokens');
  const name = uniqueName('Shop sync');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Customers and tags').selectOption('write');
  await page.getByRole('button', { name: 'Make token' }).click();
  const secret = await page.getByTestId('token-secret').inputValue();
  expect(secret).toMatch(/^moat_[0-9A-Za-z]{36}$/);
  await expectAccessible(page, 'a new token, shown once');

  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  const list = await api.get('/api/v1/customers?limit=5');
  expect(list.status()).toBe(200);
  const page1 = await list.json();
  expect(page1.data.length).toBeLessThanOrEqual(5);
  expect(page1.has_more).toBe(true);

  const person = uniqueName('Grace');
  const create = () => api.post('/api/v1/customers', { data: { name: person }, headers: { 'Idempotency-Key': `e2e-${person}` } });
  const first = await create();
  expect(first.status()).toBe(201);
  const again = await create();
  expect(again.status()).toBe(201);
  expect(again.headers()['idempotent-replayed']).toBe('true');
  expect((await again.json()).id).toBe((await first.json()).id);
  const found = await (await api.get(`/api/v1/customers?q=${encodeURIComponent(person)}`)).json();
  expect(found.data).toHaveLength(1);

  // Read-only elsewhere: invoices were not granted.
  expect((await api.get('/api/v1/invoices')).status()).toBe(403);

  // The page shows its last use; revoking it stops it at once.
  await page.goto('/settings/api-tokens');
  const row = page.getByTestId('token-row').filter({ hasText: name });
  await expect(row.getByTestId('token-last-used')).toContainText('UTC');
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByTestId('notice')).toContainText('revoked');
  expect((await api.get('/api/v1/customers')).status()).toBe(401);
  await api.dispose();
});

test('a member has no token page', async ({ page }) => {
  await signIn(page, acmeMember);
  await expect(page.getByRole('link', { name: 'API', exact: true })).toHaveCount(0);
  const res = await page.goto('/settings/api-tokens');
  expect(res?.status()).toBe(404);
});

test('the API reference renders from static files, within the content security policy', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') violations.push(msg.text());
  });
  const outside: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(new URL(page.url() || 'http://127.0.0.1').origin) && !req.url().startsWith('data:')) outside.push(req.url());
  });
  await page.goto('/api/v1/docs');
  await expect(page.getByRole('heading', { name: /Moat API/ })).toBeVisible();
  await expect(page.getByText('/customers/{id}').first()).toBeVisible();
  expect(violations.filter((v) => /Content Security Policy|Refused/.test(v))).toEqual([]);
  expect(outside.filter((u) => !u.startsWith('http://127.0.0.1') && !u.startsWith('http://localhost'))).toEqual([]);
});

import { expect, test, type Page } from '@playwright/test';
import { acmeOwner, csrfToken, formBody, globexOwner, onPhone, rowNames, signIn, tagId } from './helpers';

// Server rules: the same on every viewport, so they run on the desktop project only.
test.beforeEach(({}, testInfo) => {
  test.skip(onPhone(testInfo), 'tenant isolation is a server rule, the same on every viewport');
});

const globexNames = ['Mara Jensen', 'Nikhil Rao', 'Cypress Creek', 'Hammock Hut', 'Scorpio Holdings'];

/** A Globex customer's id and its VIP tag's id, read as Globex's owner. */
async function globexIds(page: Page) {
  await signIn(page, globexOwner);
  const vip = await tagId(page, 'VIP');
  await page.getByRole('link', { name: 'Mara Jensen', exact: true }).click();
  await expect(page).toHaveURL(/\/customers\/[0-9a-f-]{36}$/);
  const customer = new URL(page.url()).pathname.split('/').pop() as string;
  await page.getByRole('button', { name: 'Sign out' }).click();
  return { vip, customer };
}

async function expectNothingOfGlobex(page: Page) {
  for (const name of globexNames) await expect(page.getByText(name)).toHaveCount(0);
}

test("another tenant's tag id in the URL shows nothing of theirs and no error", async ({ page }) => {
  const globex = await globexIds(page);
  await signIn(page, acmeOwner);
  const res = await page.goto(`/customers?tag=${globex.vip}`);
  expect(res?.status()).toBe(200);
  await expect(page.getByTestId('error-page')).toHaveCount(0);
  await expect(page.getByTestId('customer-count')).toHaveText('0 customers');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expectNothingOfGlobex(page);
  const htmx = await page.request.get(`/customers?tag=${globex.vip}&q=mara`, { headers: { 'HX-Request': 'true' } });
  expect(htmx.status()).toBe(200);
  for (const name of globexNames) expect(await htmx.text()).not.toContain(name);
});

test("another tenant's customer answers 404 on every page of it, like an unknown id", async ({ page }) => {
  const globex = await globexIds(page);
  await signIn(page, acmeOwner);
  for (const path of [`/customers/${globex.customer}`, `/customers/${globex.customer}/edit`]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await expectNothingOfGlobex(page);
  }
});

test("a bulk action naming another tenant's customers changes nothing of theirs", async ({ page, browser }) => {
  const globex = await globexIds(page);
  await signIn(page, acmeOwner);
  const token = await csrfToken(page);
  const acmeVIP = await tagId(page, 'VIP');
  const post = (fields: Record<string, string | string[]>) =>
    page.request.post('/customers/bulk', {
      data: formBody(fields),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': token, 'HX-Request': 'true' },
      maxRedirects: 0,
    });

  for (const action of ['trash', 'untag', 'tag']) {
    const res = await post({ id: globex.customer, action, bulk_tag: action === 'tag' ? acmeVIP : globex.vip, confirm: 'yes' });
    expect(res.status(), action).toBe(422);
    const body = await res.text();
    expect(body).toContain('Select at least one customer first.');
    for (const name of globexNames) expect(body).not.toContain(name);
  }
  const exported = await page.request.post('/customers/export', {
    data: formBody({ id: globex.customer }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': token },
  });
  expect(exported.status()).toBe(200);
  const csv = (await exported.text()).trim().split(/\r?\n/);
  expect(csv).toHaveLength(1); // the header only
  expect(csv[0]).toMatch(/^number,name,kind,company,emails/);

  // Globex's customer is untouched: still listed, still VIP.
  const other = await browser.newPage();
  await signIn(other, globexOwner);
  const res = await other.goto(`/customers/${globex.customer}`);
  expect(res?.status()).toBe(200);
  await expect(other.getByTestId('customer-detail').locator('h1 ~ div').getByTestId('tag-chip')).toHaveText(['VIP']);
  await other.goto(`/customers?tag=${globex.vip}`);
  expect(await rowNames(other)).toContain('Mara Jensen');
  await other.close();
});

test("another tenant's invoice answers 404 on every page of it, and its customer cannot be billed", async ({ page }) => {
  await signIn(page, globexOwner);
  await page.goto('/invoices?status=open');
  await page.getByTestId('invoice-row').first().getByRole('link').first().click();
  await expect(page.getByTestId('invoice-title')).toHaveText(/^INV-/);
  const invoice = new URL(page.url()).pathname.split('/').pop() as string;
  const globex = await globexIds(page);
  await signIn(page, acmeOwner);
  for (const path of [`/invoices/${invoice}`, `/invoices/${invoice}/print`, `/invoices/${invoice}/pdf`, `/invoices/new?customer=${globex.customer}`]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await expectNothingOfGlobex(page);
  }
  const token = await csrfToken(page);
  const res = await page.request.post('/invoices', {
    form: { _csrf: token, customer_id: globex.customer, currency: 'EUR', payment_terms: '30', exchange_rate: '1', rounding: 'line',
      line_description: 'Planted', line_quantity: '1', line_unit_price: '1', line_discount: '0', line_tax_rate: '0', tenant_id: 'globex' },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(422);
  const body = await res.text();
  expect(body).toContain('Choose a customer from the list.');
  for (const name of globexNames) expect(body).not.toContain(name);
  for (const payment of [`/invoices/${invoice}/payments`, `/invoices/${invoice}/void`, `/invoices/${invoice}/credit`]) {
    const r = await page.request.post(payment, { form: { _csrf: token, confirm: 'yes', amount: '1' }, maxRedirects: 0 });
    expect(r.status(), payment).toBe(404);
  }
});

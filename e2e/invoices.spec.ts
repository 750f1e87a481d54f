import { expect, test, type Page } from '@playwright/test';
import { createCustomer, csrfToken, expectAccessible, settled, signUpOrganization } from './helpers';

// Invoices end to end, in a new organization each (so numbering starts at 0001): with JavaScript
// (line buttons in place, totals as you type, confirmations in dialogs) and without it (every
// button posts the form, and the server asks on a page of its own).

const year = new Date().getUTCFullYear();

/** Fills line n (from 0) of the editor. */
async function fillLine(page: Page, n: number, line: { description: string; quantity?: string; price: string; tax: string }) {
  const rows = page.getByTestId('invoice-lines-editor').locator('[data-line]');
  const row = rows.nth(n);
  await row.getByLabel('Description').fill(line.description);
  if (line.quantity) await row.getByLabel('Qty').fill(line.quantity);
  await row.getByLabel('Unit price').fill(line.price);
  await row.getByLabel('Tax %').fill(line.tax);
}

async function pay(page: Page, amount: string) {
  await page.getByLabel('Amount (EUR)').fill(amount);
  await page.getByRole('button', { name: 'Record payment' }).click();
}

test('an invoice from draft to paid, with JavaScript', async ({ page }) => {
  await signUpOrganization(page);
  const customer = await createCustomer(page, { name: 'Grace Hopper', email: 'grace@example.com', payment_terms: '14' });
  await page.goto(customer);
  await page.getByTestId('customer-invoices').getByRole('link', { name: 'New invoice' }).click();
  await expect(page.getByRole('heading', { name: 'New invoice' })).toBeVisible();
  await expect(page.getByText('For Grace Hopper')).toBeVisible();

  // 8180 × 9.975 % = 815.96 (half away from zero); the totals follow the lines as they change.
  await fillLine(page, 0, { description: 'Widgets', price: '8180', tax: '9.975' });
  await page.getByRole('button', { name: 'Add line' }).click();
  const second = page.getByTestId('invoice-lines-editor').locator('[data-line]').nth(1);
  await expect(second.getByLabel('Product SKU')).toBeFocused(); // the line's first field
  await expect(second.getByLabel('Tax %')).toHaveValue('9.975');
  await fillLine(page, 1, { description: 'Bolts', quantity: '2', price: '1.25', tax: '20' });
  const totals = page.locator('#invoice-totals-preview');
  await expect(totals).toContainText('€8,998.96');
  await second.getByRole('button', { name: 'Remove line 2' }).click();
  await expect(page.getByTestId('invoice-lines-editor').locator('[data-line]')).toHaveCount(1);
  await expect(totals).toContainText('€8,995.96');
  await expectAccessible(page, 'the invoice editor');
  await page.getByRole('button', { name: 'Save draft' }).last().click();

  await expect(page).toHaveURL(/\/invoices\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('toast').filter({ hasText: 'Draft saved.' })).toBeVisible();
  await expect(page.getByTestId('invoice-status')).toHaveText('Draft');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Finalize' }).click();
  await expect(page.getByTestId('invoice-title')).toHaveText(`INV-${year}-0001`);
  await expect(page.getByTestId('invoice-status')).toHaveText('Open');
  await expect(page.getByTestId('invoice-due')).toHaveText('€8,995.96');

  const pdf = await page.request.get((await page.getByTestId('invoice-pdf').getAttribute('href')) as string);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

  await pay(page, '4000');
  await expect(page.getByTestId('toast').filter({ hasText: 'Payment recorded.' })).toBeVisible();
  await expect(page.getByTestId('invoice-due')).toHaveText('€4,995.96');
  await expect(page.getByTestId('payment')).toHaveCount(1);
  await pay(page, '4995.97');
  await expect(page.getByTestId('error-amount')).toContainText('more than is due (€4,995.96)');
  await expectAccessible(page, 'an invoice with a payment error');
  await pay(page, '4995.96');
  await expect(page.getByTestId('invoice-status')).toHaveText('Paid');
  await expect(page.getByTestId('invoice-due')).toHaveText('€0.00');

  await page.goto(customer);
  const section = page.getByTestId('customer-invoices');
  await expect(section.getByRole('link', { name: `INV-${year}-0001` })).toBeVisible();
  await expect(section.getByTestId('outstanding')).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('draft, finalize, partial payment, paid, then credit and re-issue', async ({ page }) => {
    await signUpOrganization(page);
    await createCustomer(page, { name: 'Alan Turing', email: 'alan@example.com' }, await csrfToken(page));
    await page.goto('/invoices/new');
    await page.getByRole('searchbox', { name: 'Who is it for?' }).fill('turing');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByTestId('customer-choice').filter({ hasText: 'Alan Turing' }).click();

    await fillLine(page, 0, { description: 'Consulting', quantity: '3', price: '100', tax: '20' });
    await page.getByRole('button', { name: 'Add line' }).click(); // posts the form; it comes back a line longer
    await expect(page.getByTestId('invoice-lines-editor').locator('[data-line]')).toHaveCount(2);
    await expect(page.getByTestId('invoice-lines-editor').getByLabel('Description').first()).toHaveValue('Consulting');
    await fillLine(page, 1, { description: 'Travel', price: '45.50', tax: '0' });
    await page.getByRole('button', { name: 'Save draft' }).last().click();
    await expect(page.getByTestId('invoice-status')).toHaveText('Draft');

    await page.getByRole('button', { name: 'Finalize' }).click();
    await expect(page.getByTestId('confirm')).toContainText('Finalize this invoice?');
    await page.getByTestId('confirm-button').click();
    await expect(page.getByTestId('invoice-title')).toHaveText(`INV-${year}-0001`);
    await expect(page.getByTestId('invoice-due')).toHaveText('€405.50');

    await pay(page, '200.50');
    await expect(page.getByTestId('invoice-due')).toHaveText('€205.00');
    await pay(page, '205');
    await expect(page.getByTestId('invoice-status')).toHaveText('Paid');

    await page.getByRole('button', { name: 'Credit and re-issue' }).click();
    await expect(page.getByTestId('confirm')).toContainText('Credit this invoice?');
    await page.getByTestId('confirm-button').click();
    await expect(page).toHaveURL(/\/invoices\/[0-9a-f-]{36}\/edit$/);
    await expect(page.getByTestId('invoice-lines-editor').getByLabel('Description').first()).toHaveValue('Consulting');
    await page.getByRole('button', { name: 'Save draft' }).last().click();
    await expect(page.getByTestId('invoice-status')).toHaveText('Draft');

    await page.goto('/invoices');
    await expect(page.getByTestId('invoice-row')).toHaveCount(3);
    await page.getByRole('link', { name: `INV-${year}-0001` }).click();
    await expect(page.getByTestId('credit-note')).toContainText(`CN-${year}-0001`);
    await page.getByTestId('credit-note').getByRole('link').click();
    await expect(page.getByTestId('invoice-status')).toHaveText('Issued');
    await expect(page.getByText(`Credits INV-${year}-0001`)).toBeVisible();
  });
});

test('the invoice list filters, pages and totals what it shows', async ({ page }) => {
  await signUpOrganization(page);
  const token = await csrfToken(page);
  const customer = (await createCustomer(page, { name: 'Edsger Dijkstra' }, token)).split('/').pop() as string;
  for (let i = 1; i <= 3; i++) {
    const res = await page.request.post('/invoices', {
      form: { _csrf: token, customer_id: customer, currency: 'EUR', payment_terms: '30', exchange_rate: '1', rounding: 'line',
        line_description: `Lecture ${i}`, line_quantity: '1', line_unit_price: `${i}00`, line_discount: '0', line_tax_rate: '0' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(303);
  }
  await page.goto('/invoices');
  await expect(page.getByTestId('invoice-row')).toHaveCount(3);
  await expect(page.getByTestId('invoice-total')).toContainText('€600.00');
  await page.getByTestId('quick-filters').getByRole('link', { name: 'Open' }).click();
  await expect(page).toHaveURL(/status=open/);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await page.getByTestId('quick-filters').getByRole('link', { name: 'Drafts' }).click();
  await settled(page);
  await page.getByLabel('Search').fill('dijkstra');
  await expect(page).toHaveURL(/q=dijkstra/);
  await expect(page.getByTestId('invoice-row')).toHaveCount(3);
  await expectAccessible(page, 'the filtered invoice list');
});

import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acmeOwner, onPhone, signIn } from './helpers';

// The README's screenshot of the customer list, made from the demo data as loaded. These run in
// the readme-desktop and readme-phone projects, before any other spec adds customers (see
// playwright.config.ts), so the picture is the same run after run.
test('the customer list, as the README shows it', async ({ page }, testInfo) => {
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await signIn(page, acmeOwner);
  await page.goto('/customers');
  const rows = page.getByTestId('customer-row');
  await expect(rows).toHaveCount(25);
  await expect(page.getByTestId('customer-count')).toHaveText('39 customers');
  await expect(rows.first()).toContainText('Ada Byrne');
  await expect(page.getByTestId('sort-name').locator('xpath=..')).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('toast')).toHaveCount(0);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready);

  const dir = path.join(__dirname, '..', 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, onPhone(testInfo) ? 'customer-list-phone.png' : 'customer-list.png');
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled', caret: 'hide' });
  await testInfo.attach('customer-list', { path: file, contentType: 'image/png' });
});

import { expect, type Page } from '@playwright/test';

export const demoPassword = 'moat-demo-password';
export const acmeOwner = 'owner@acme.test';
export const acmeMember = 'member@acme.test';
export const globexOwner = 'owner@globex.test';

export async function signIn(page: Page, email: string, password = demoPassword) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/customers$/);
}

export function uniqueName(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

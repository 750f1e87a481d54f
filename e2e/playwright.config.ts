import { defineConfig } from '@playwright/test';

const port = process.env.E2E_PORT ?? '3100';
const baseURL = `http://127.0.0.1:${port}`;

// Debian's Chromium: Playwright's own browser download cannot work on these machines.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export default defineConfig({
  testDir: '.',
  outputDir: '../test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  // A fresh database (make e2e drops it first), migrated and loaded with the demo tenants.
  webServer: {
    command: 'bin/moat migrate && bin/moat demo && bin/moat serve',
    cwd: '..',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      APP_ENV: 'development',
      LOG_LEVEL: 'warn',
      SIGNIN_LIMIT_PER_IP: '10000',
      SIGNIN_LIMIT_PER_EMAIL: '10000',
      MOAT_DB_NAME: 'moat_e2e',
      ADDR: `127.0.0.1:${port}`,
      METRICS_ADDR: '127.0.0.1:0',
    },
  },
});

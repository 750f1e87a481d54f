import { defineConfig, type PlaywrightTestOptions } from '@playwright/test';

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

// The two viewports every flow runs on.
const desktop: Partial<PlaywrightTestOptions> = {
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  isMobile: false,
  hasTouch: false,
};
const phone: Partial<PlaywrightTestOptions> = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

// The README's screenshots (00-screens.spec.ts) are of the demo data as loaded, so they run
// before anything else adds customers: the readme-* projects run first, desktop then phone (the
// phone's pictures show what the desktop's made), and the flows depend on them (--no-deps skips
// them when running one file).
// Tests that check a server rule the same on every viewport skip the phone (test.skip with the
// reason); the flows run on both.
const readme = /00-screens\.spec\.ts$/;

export default defineConfig({
  testDir: '.',
  outputDir: '../test-results',
  // One file at a time: several specs read the demo tenants' whole lists (keyset paging walks
  // every customer of Acme), which another file adding customers beside them would change.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs },
    timezoneId: 'UTC',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    // Recording a trace for every test costs about a fifth of the suite's time on a two-core
    // machine; a failure still leaves a screenshot and error-context.md (the page's ARIA
    // snapshot). For a trace, run again with --trace=on (or --retries=1).
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'readme-desktop', testMatch: readme, use: desktop },
    { name: 'readme-phone', testMatch: readme, use: phone, dependencies: ['readme-desktop'] },
    { name: 'desktop', testIgnore: readme, use: desktop, dependencies: ['readme-desktop', 'readme-phone'] },
    { name: 'phone', testIgnore: readme, use: phone, dependencies: ['readme-desktop', 'readme-phone'] },
  ],
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

/** End-to-end tests against a running `make dev` (the web app on :5173, the gateway on :8000),
 * in Debian's Chromium (Playwright cannot download its own browser here). */
import { defineConfig, devices } from "@playwright/test";

export const WEB_URL = process.env.WEB_URL ?? "http://localhost:5173";
export const API_URL = process.env.API_URL ?? "http://localhost:8000";

export default defineConfig({
  testDir: "e2e",
  timeout: 120_000, // a shared 2-core machine: the whole stack runs beside the browser
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1, // two cores, shared with the whole stack
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: WEB_URL,
    actionTimeout: 30_000, // a control that never appears fails its step, not the whole test's time
    locale: "en-GB",
    timezoneId: "Europe/London",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined } },
  ],
});

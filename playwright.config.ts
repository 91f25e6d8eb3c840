import { defineConfig } from "@playwright/test";

// Debian's Chromium by default: test tools cannot download browsers on every machine.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "tests",
  globalSetup: "./tests/support/playwright-global-setup.ts",
  timeout: 30_000,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "integration",
      testMatch: "integration/**/*.spec.ts",
      testIgnore: [
        "integration/chaos.spec.ts",
        "integration/failover.spec.ts",
        "integration/rolling-restart.spec.ts",
        "integration/shutdown-nginx.spec.ts",
      ],
    },
    // After the integration tests: both use the default channel `sse` on the same Redis,
    // and a stray greeting would raise an extra alert in the browser.
    {
      name: "e2e",
      testMatch: "e2e/**/*.spec.ts",
      dependencies: ["integration"],
      use: { browserName: "chromium" },
    },
    // Last and alone: their publishers keep a schedule (chaos: 50 msg/s; failover: every
    // 250 ms per channel through killed Redis masters; a rolling restart under 2,000
    // streams), which a busy machine cannot promise.
    {
      name: "chaos",
      testMatch: [
        "integration/chaos.spec.ts",
        "integration/failover.spec.ts",
        "integration/rolling-restart.spec.ts",
        "integration/shutdown-nginx.spec.ts",
      ],
      dependencies: ["e2e"],
    },
  ],
});

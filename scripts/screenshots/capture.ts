// `npm run screenshots`: pictures of `/` and `/playground` for the README, taken in
// Chromium against `next start` on a private Redis. Writes public/screenshots/*.png.
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN } from "@/tests/support/env";
import { ensureBuilt, startAppServer } from "@/tests/support/next-server";
import { startRedisServer } from "@/tests/support/redis-server";

const OUT = join(__dirname, "..", "..", "public", "screenshots");

async function main(): Promise<void> {
  await ensureBuilt();
  const redis = await startRedisServer();
  const server = await startAppServer({
    SSE_REDIS_URL: redis.url,
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    for (const scheme of ["light", "dark"] as const) {
      const context = await browser.newContext({
        viewport: { width: 1200, height: 820 },
        deviceScaleFactor: 1,
        colorScheme: scheme,
      });
      if (scheme === "light") {
        const home = await context.newPage();
        home.on("dialog", (dialog) => {
          dialog.accept().catch(() => {});
        });
        await home.goto(`${server.url}/`);
        await home.getByTestId("stream-status").and(home.locator('[data-status="open"]')).waitFor();
        for (let i = 0; i < 2; i++) {
          const alert = home.waitForEvent("dialog");
          await fetch(`${server.url}/hello`);
          await alert;
        }
        await home.getByTestId("event").nth(1).waitFor();
        await home
          .getByTestId("private-status")
          .and(home.locator('[data-status="open"]'))
          .waitFor();
        await home.screenshot({ path: join(OUT, "quickstart.png"), fullPage: true });
        await home.close({ runBeforeUnload: false });
      }

      const page = await context.newPage();
      await page.goto(`${server.url}/playground`);
      await page.getByTestId("pg-status").and(page.locator('[data-status="open"]')).waitFor();
      const samples: Array<[string, string, unknown]> = [
        ["news", "update", { headline: "Redis 7 sharded pub/sub in production" }],
        ["chat", "message", { user: "ada", text: "resume works across instances" }],
        ["news", "update", { headline: "0 lost, 0 duplicated in the chaos test" }],
        ["chat", "message", { user: "linus", text: "dropping my connection now" }],
      ];
      for (const [channel, type, data] of samples) {
        await publishViaApi({ channel, type, data }, { base: server.url });
      }
      await page
        .getByTestId("pg-event")
        .nth(samples.length - 1)
        .waitFor();
      // Presence is polled every 2 s: wait until it counts this page.
      await page.getByTestId("pg-count-news").getByText("1 subscribed").waitFor();
      await page.screenshot({ path: join(OUT, `playground-${scheme}.png`) });
      await context.close();
    }
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await server.stop();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

import { expect, test } from "@playwright/test";
import { publishViaApi, testEnv, uniqueChannel } from "../support/env";

test("the page misses nothing while its stream is cut and resumed", async ({ page }) => {
  // This server ends every stream after about a second, so the browser reconnects with
  // Last-Event-ID several times while events are published.
  const base = testEnv("SHORT_APP_URL");
  const channel = uniqueChannel("e2e");
  // The stream is held by a SharedWorker, whose requests the page does not see: count the
  // streams the server opened instead.
  const opened = async () => {
    const metrics = await (await fetch(`${base}/api/metrics`)).text();
    return Number(/^sse_streams_opened_total (\d+)$/m.exec(metrics)?.[1]);
  };
  const openedBefore = await opened();
  await page.goto(`${base}/?channel=${channel}`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  const total = 30;
  for (let n = 1; n <= total; n++) {
    const response = await publishViaApi(
      { channel, type: "greeting", data: { message: `#${n}` } },
      { base },
    );
    expect(response.status).toBe(200);
    await page.waitForTimeout(100);
  }
  await expect(page.getByTestId("event")).toHaveCount(total);
  const shown = await page.getByTestId("event").allTextContents();
  const numbers = shown.map((text) => Number(/#(\d+)/.exec(text)?.[1])).reverse();
  expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect((await opened()) - openedBefore).toBeGreaterThan(2);
});

import { expect, test } from "@playwright/test";
import { TEST_SECRET, testEnv, uniqueChannel } from "../support/env";
import { startAppServer } from "../support/next-server";

test("the private channel opens with the page's token and receives what it publishes", async ({
  page,
}) => {
  await page.goto(`${testEnv("APP_URL")}/`);
  await expect(page.getByTestId("private-status")).toHaveAttribute("data-status", "open");
  await page.getByRole("button", { name: "Publish a private greeting" }).click();
  await expect(page.getByTestId("private-event")).toHaveText(["Hello, private channel!"]);
});

test("without a token the private channel is refused, and the page says why", async ({ page }) => {
  await page.goto(`${testEnv("APP_URL")}/?private=no-token`);
  await expect(page.getByTestId("private-status")).toHaveAttribute("data-status", "closed");
  await expect(page.getByTestId("private-error")).toHaveText(
    "channel private-demo is private: pass a token (Authorization: Bearer, the sse_token cookie, or ?token=)",
  );
});

test("two components on the same stream URL share one stream", async ({ page }) => {
  // The quickstart panel and the badge both listen to this channel: the server sees one
  // subscriber of it, not two.
  const base = testEnv("APP_URL");
  const channel = uniqueChannel("shared");
  await page.goto(`${base}/?channel=${channel}`);
  await expect(page.getByTestId("stream-badge")).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  const subscribers = async () =>
    (await (await fetch(`${base}/api/channels/${channel}`)).json()).subscribers;
  await expect.poll(subscribers).toBe(1);
});

test("members: each browser once, however many tabs; a browser that leaves is gone from the others", async ({
  browser,
}) => {
  // A server of its own: the demo channel's members are everyone on it.
  const server = await startAppServer({ SSE_SECRET: TEST_SECRET });
  try {
    const [ann, bob] = [await browser.newContext(), await browser.newContext()];
    const pages = [await ann.newPage(), await ann.newPage(), await bob.newPage()];
    for (const page of pages) await page.goto(`${server.url}/`);
    // Ann's two tabs share one stream (one member); Bob is the other.
    for (const page of pages) {
      await expect(page.getByTestId("private-member")).toHaveCount(2);
      await expect(page.getByTestId("private-member").first()).toHaveText(/^Visitor [0-9a-f]{4}$/);
    }
    await bob.close();
    for (const page of pages.slice(0, 2)) {
      await expect(page.getByTestId("private-member")).toHaveCount(1);
    }
    await ann.close();
  } finally {
    await server.stop();
  }
});

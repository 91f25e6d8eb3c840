import { expect, test } from "@playwright/test";
import { testEnv, uniqueChannel } from "../support/env";

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

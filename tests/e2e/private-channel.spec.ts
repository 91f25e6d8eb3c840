import { expect, test } from "@playwright/test";
import { testEnv } from "../support/env";

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
    "channel private-demo is private: pass a token as ?token= or the sse_token cookie",
  );
});

test("two components on the same stream URL share one EventSource", async ({ page }) => {
  const streamRequests: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname === "/stream" && !url.searchParams.has("token")) streamRequests.push(url.href);
  });
  await page.goto(`${testEnv("APP_URL")}/`);
  await expect(page.getByTestId("stream-badge")).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  expect(streamRequests).toHaveLength(1);
});

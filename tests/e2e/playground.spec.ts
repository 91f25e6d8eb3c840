import { expect, type Page, test } from "@playwright/test";
import { publishViaApi, testEnv } from "../support/env";

const events = (page: Page) => page.getByTestId("pg-event");

async function publishWithForm(page: Page, channel: string, type: string, data: string) {
  // By name: a label that wraps a field also takes the field's value into its name.
  await page.locator('select[name="channel"]').selectOption(channel);
  await page.locator('input[name="type"]').fill(type);
  await page.locator('textarea[name="data"]').fill(data);
  await page.getByRole("button", { name: "Publish" }).click();
}

test.beforeEach(async ({ page }) => {
  await page.goto(`${testEnv("APP_URL")}/playground`);
  await expect(page.getByTestId("pg-status")).toHaveAttribute("data-status", "open");
});

test("two channels: each event published with the form shows once, with its channel", async ({
  page,
}) => {
  const stamp = Date.now();
  await publishWithForm(page, "news", "update", `{"n": "news-${stamp}"}`);
  await expect(page.getByTestId("pg-published")).toContainText("to 1 instance");
  await publishWithForm(page, "chat", "message", `{"n": "chat-${stamp}"}`);
  const news = events(page).filter({ hasText: `news-${stamp}` });
  const chat = events(page).filter({ hasText: `chat-${stamp}` });
  await expect(news).toHaveCount(1);
  await expect(chat).toHaveCount(1);
  await expect(news).toHaveAttribute("data-channel", "news");
  await expect(news).toHaveAttribute("data-type", "update");
  await expect(chat).toHaveAttribute("data-channel", "chat");
  await expect(page.getByTestId("pg-count-news")).toHaveText(/[1-9]\d* subscribed/);
});

test("the private channel works with the token the page was given", async ({ page }) => {
  await page.getByRole("checkbox", { name: "private-playground" }).check();
  await expect(page.getByTestId("pg-status")).toHaveAttribute("data-status", "open");
  const stamp = `secret-${Date.now()}`;
  await publishWithForm(page, "private-playground", "message", JSON.stringify(stamp));
  await expect(events(page).filter({ hasText: stamp })).toHaveAttribute(
    "data-channel",
    "private-playground",
  );
});

test("drop the connection while events are published: every event shows exactly once", async ({
  page,
}) => {
  const run = Date.now();
  const total = 20;
  const publisher = (async () => {
    for (let i = 1; i <= total; i++) {
      await publishViaApi({ channel: "news", type: "update", data: `drop-${run}-${i}` });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await expect(
    events(page)
      .filter({ hasText: `drop-${run}-` })
      .first(),
  ).toBeVisible();
  await page.getByRole("button", { name: "Drop connection" }).click();
  await publisher;
  await expect(page.getByTestId("pg-status")).toHaveAttribute("data-resumed", "true");
  const shown = events(page).filter({ hasText: `drop-${run}-` });
  await expect(shown).toHaveCount(total);
  const numbers = (await shown.getByTestId("pg-event-data").allTextContents())
    .map((text) => Number(text.split("-").pop()))
    .sort((a, b) => a - b);
  expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
});

test("the form shows the code that publishes what was typed, and that code's event arrives", async ({
  page,
}) => {
  const stamp = Date.now();
  await page.locator('select[name="channel"]').selectOption("news");
  await page.locator('input[name="type"]').fill("update");
  await page.locator('textarea[name="data"]').fill(`{"n": "code-${stamp}"}`);
  const code = page.getByTestId("pg-code");
  await expect(code).toContainText(
    `await publish({"n": "code-${stamp}"}, { channel: "news", type: "update" });`,
  );
  await expect(code).toContainText(
    `-d '{"channel":"news","type":"update","data":{"n":"code-${stamp}"}}'`,
  );
  // The shown request is the publish API's own: its body, sent as shown, reaches the page.
  const body = /-d '(.*)'/.exec((await code.textContent()) ?? "")?.[1] ?? "";
  expect((await publishViaApi(body)).status).toBe(200);
  await expect(events(page).filter({ hasText: `code-${stamp}` })).toHaveCount(1);
});

test("the form shows the server's error for invalid JSON", async ({ page }) => {
  await publishWithForm(page, "news", "message", "{not json");
  await expect(page.getByTestId("pg-error")).toHaveText(
    "data: not valid JSON (strings need quotes)",
  );
});

test("the form shows the server's error for a bad type", async ({ page }) => {
  await publishWithForm(page, "news", "x".repeat(300), '"fine data"');
  await expect(page.getByTestId("pg-error")).toContainText("type:");
  await expect(page.getByTestId("pg-error")).toContainText("256");
});

test("without Redis, a Server Action's publish reaches the page's Node-served stream", async ({
  browser,
}) => {
  const page = await browser.newPage();
  const base = testEnv("MEMORY_APP_URL");
  await page.goto(`${base}/playground`);
  await expect(page.getByTestId("pg-status")).toHaveAttribute("data-status", "open");
  const stamp = `memory-${Date.now()}`;
  await publishWithForm(page, "news", "update", JSON.stringify(stamp));
  await expect(events(page).filter({ hasText: stamp })).toHaveCount(1);
  const health = await (await fetch(`${base}/api/health`)).json();
  expect(health).toMatchObject({ broker: "memory", sinks: { web: 0 } });
  expect(health.sinks.node).toBeGreaterThan(0);
  await page.close();
});

test("rewind: a page opened after 20 events shows the last 10, marked as history, then live ones, each once", async ({
  page,
}) => {
  const channel = `rewind-${Date.now().toString(36)}`;
  for (let i = 0; i < 20; i++) await publishViaApi({ channel, data: `old-${i}` });
  // One stream on the new channel only, asked with rewind 10.
  await page.getByRole("checkbox", { name: "news" }).uncheck();
  await page.getByRole("checkbox", { name: "chat" }).uncheck();
  await page.locator('input[name="rewind"]').fill("10");
  await page.getByPlaceholder("another-channel").fill(channel);
  await page.getByRole("button", { name: "Add" }).click();
  const onChannel = page.locator(`[data-testid="pg-event"][data-channel="${channel}"]`);
  await expect(onChannel).toHaveCount(10);
  await expect(onChannel.and(page.locator('[data-history="true"]'))).toHaveCount(10);
  // Newest first in the log: old-19 down to old-10.
  await expect(onChannel.getByTestId("pg-event-data")).toHaveText(
    Array.from({ length: 10 }, (_, i) => `old-${19 - i}`),
  );
  await publishViaApi({ channel, data: "live" });
  await expect(onChannel).toHaveCount(11);
  await expect(onChannel.first()).toHaveAttribute("data-history", "false");
  await expect(onChannel.first().getByTestId("pg-event-data")).toHaveText("live");
});

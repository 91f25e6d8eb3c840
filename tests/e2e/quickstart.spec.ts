import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { testEnv } from "../support/env";
import { startAppServer } from "../support/next-server";

/** The quickstart, as a person tries it: `/` in one tab, `/hello` in another, an alert. */
async function expectTwoTabGreeting(context: BrowserContext, base: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");

  const dialog = page.waitForEvent("dialog");
  const other = await context.newPage();
  await other.goto(`${base}/hello`);
  await expect(other.locator("body")).toHaveText("Message sent!");

  const alert = await dialog;
  expect(alert.type()).toBe("alert");
  expect(alert.message()).toBe("The server says Hello!");
  await alert.accept();
  return page;
}

test("two tabs: /hello in one raises the quickstart alert in the other", async ({ context }) => {
  const page = await expectTwoTabGreeting(context, testEnv("APP_URL"));
  await expect(page.getByTestId("event")).toHaveCount(1);
  await expect(page.getByTestId("event").first()).toContainText('{"message":"Hello!"}');
});

test("Redis down: the page alerts once that it cannot connect, and keeps trying", async ({
  page,
}) => {
  // Each 503 says Retry-After 5 to 7 s (jittered): three tries take up to about 21 s.
  test.setTimeout(60_000);
  const alerts: string[] = [];
  page.on("dialog", (dialog) => {
    alerts.push(dialog.message());
    dialog.accept().catch(() => {}); // a dialog still open when the test ends goes with it
  });
  await page.goto(`${testEnv("DOWN_APP_URL")}/`);
  const status = page.getByTestId("stream-status");
  await expect(status).toHaveAttribute("data-status", "reconnecting");
  // Three failed tries (503 each), one alert: once per outage, not once per retry.
  await expect(status).toHaveAttribute("data-attempt", /^([3-9]|\d\d)$/, { timeout: 30_000 });
  expect(alerts).toEqual(["Failed to connect to event stream. Is Redis running?"]);
});

test("the demo works with no Redis configured, on the in-memory broker", async ({ context }) => {
  await expectTwoTabGreeting(context, testEnv("MEMORY_APP_URL"));
});

test("the deploy folder runs the quickstart on its own, copied away from the project", async ({
  context,
}) => {
  test.setTimeout(60_000);
  // What a Docker image gets: .next/standalone alone, no node_modules of the project.
  const folder = mkdtempSync(join(tmpdir(), "next-sse-deploy-"));
  cpSync(join(__dirname, "..", "..", ".next", "standalone"), folder, { recursive: true });
  const server = await startAppServer({}, { script: join(folder, "server.js") });
  try {
    const page = await expectTwoTabGreeting(context, server.url);
    // Its static assets and public files came along: the page is styled and hydrated.
    await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
    expect((await fetch(`${server.url}/screenshots/quickstart.png`)).status).toBe(200);
    expect((await (await fetch(`${server.url}/api/health`)).json()).sinks.node).toBeGreaterThan(0);
  } finally {
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
});

test("the quickstart links to the playground, without an error alert on the way", async ({
  page,
}) => {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  await page.goto(`${testEnv("MEMORY_APP_URL")}/`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  await page.getByTestId("playground-link").click();
  await expect(page).toHaveURL(/\/playground$/);
  await expect(page.getByTestId("pg-status")).toHaveAttribute("data-status", "open");
  expect(dialogs).toEqual([]);
});

import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { publishViaApi, testEnv } from "../support/env";

/**
 * A page rendered on the server, then live (`/orders`: `readLatest` on the server, the
 * hook's `after` in the browser): every event published between the render and hydration
 * arrives once, in order. The page's scripts are held until after the publishes, so the
 * gap is real and not a race the test may lose.
 */
test.describe.configure({ mode: "serial" });

const ORDERS = `${testEnv("APP_URL")}/orders`;

/** Opens the live page with its scripts held; `release` lets them load. */
async function openHeld(context: BrowserContext): Promise<{ page: Page; release: () => void }> {
  const page = await context.newPage();
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(/\/_next\/static\/chunks\/.*\.js/, async (route) => {
    await released;
    await route.continue();
  });
  // Not `load`: that waits for the held scripts.
  await page.goto(ORDERS, { waitUntil: "commit" });
  // The server's render is in the page; nothing of it is live yet.
  await expect(page.getByTestId("orders-status")).toHaveAttribute("data-status", "connecting");
  return { page, release };
}

async function publishOrders(items: string[]): Promise<void> {
  for (const item of items) {
    const response = await publishViaApi({
      channel: "orders",
      type: "order",
      data: { item, qty: 1 },
    });
    expect(response.status).toBe(200);
  }
}

/** The items shown, in order, that belong to this test. */
const shown = (page: Page, stamp: string) =>
  page
    .getByTestId("order")
    .filter({ hasText: stamp })
    .allTextContents()
    .then((texts) => texts.map((text) => text.replace(/^1 × /, "")));

test("an event published between the server render and hydration arrives once", async ({
  context,
}) => {
  const stamp = `gap-${Date.now()}`;
  await publishOrders([`${stamp}-before`]);
  const { page, release } = await openHeld(context);
  await expect(page.getByTestId("order").filter({ hasText: `${stamp}-before` })).toHaveCount(1);
  await publishOrders([`${stamp}-between`]);
  release();
  await expect(page.getByTestId("orders-status")).toHaveAttribute("data-status", "open");
  await publishOrders([`${stamp}-after`]);
  await expect
    .poll(() => shown(page, stamp))
    .toEqual([`${stamp}-before`, `${stamp}-between`, `${stamp}-after`]);
});

test("a second tab of a browser already on the channel: the same, through the shared connection", async ({
  context,
}) => {
  const stamp = `tab2-${Date.now()}`;
  const first = await context.newPage();
  await first.goto(ORDERS);
  await expect(first.getByTestId("orders-status")).toHaveAttribute("data-status", "open");
  await publishOrders([`${stamp}-before`]);
  const { page: second, release } = await openHeld(context);
  await publishOrders([`${stamp}-between`]);
  await expect.poll(() => shown(first, stamp)).toEqual([`${stamp}-before`, `${stamp}-between`]);
  release();
  await expect(second.getByTestId("orders-status")).toHaveAttribute("data-status", "open");
  await publishOrders([`${stamp}-after`]);
  const all = [`${stamp}-before`, `${stamp}-between`, `${stamp}-after`];
  await expect.poll(() => shown(second, stamp)).toEqual(all);
  await expect.poll(() => shown(first, stamp)).toEqual(all);
});

test("50 events published during a slow hydration arrive once each, in order", async ({
  context,
}) => {
  const stamp = `slow-${Date.now()}`;
  const { page, release } = await openHeld(context);
  const items = Array.from({ length: 50 }, (_, i) => `${stamp}-${String(i + 1).padStart(2, "0")}`);
  await publishOrders(items);
  release();
  await expect.poll(() => shown(page, stamp), { timeout: 15_000 }).toEqual(items);
});

test("the order form's Server Action refuses what the channel's declaration refuses", async ({
  page,
}) => {
  await page.goto(ORDERS);
  await expect(page.getByTestId("orders-status")).toHaveAttribute("data-status", "open");
  const stamp = `form-${Date.now()}`;
  await page.locator('input[name="item"]').fill(stamp);
  await page.locator('input[name="qty"]').fill("two");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-error")).toHaveText(
    "data.qty: Invalid input: expected number, received string",
  );
  // A form action resets the form: fill it again.
  await page.locator('input[name="item"]').fill(stamp);
  await page.locator('input[name="qty"]').fill("2");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order").filter({ hasText: `2 × ${stamp}` })).toHaveCount(1);
});

import { expect, type Page, test } from "@playwright/test";
import { testEnv } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { tokenNumbers, upTo } from "../support/ui-stream";

// The demo chat in Chromium: `useChat({ resume: true })` over next-sse (`lib/ai`), the AI SDK's
// mock model answering 200 numbered tokens 60 ms apart. Each token is counted, once, in order.
test.describe.configure({ mode: "serial" });

let server: TestServer;

test.beforeAll(async () => {
  server = await startAppServer({
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_AI_MOCK_TOKEN_MS: "60",
  });
});

test.afterAll(() => server?.stop());

const answer = (page: Page) => page.getByTestId("chat-assistant").last();
const tokensShown = async (page: Page) => tokenNumbers((await answer(page).textContent()) ?? "");

async function ask(page: Page): Promise<void> {
  await page.goto(`${server.url}/chat`);
  await expect(page).toHaveURL(/\/chat\?id=/);
  await expect(page.getByTestId("chat-status")).toHaveAttribute("data-status", "ready");
  await page.getByRole("button", { name: "Send" }).click();
  await expect.poll(async () => (await tokensShown(page)).length).toBeGreaterThanOrEqual(20);
}

test("reload in the middle of an answer: it continues from where it was, nothing repeated", async ({
  page,
}) => {
  await ask(page);
  await page.reload();
  // Right after the reload the chat is `ready` with nothing yet: wait for the last token.
  await expect.poll(async () => (await tokensShown(page)).at(-1), { timeout: 30_000 }).toBe(200);
  await expect(page.getByTestId("chat-status")).toHaveAttribute("data-status", "ready");
  expect(await tokensShown(page)).toEqual(upTo(200));
});

test("a second tab opened mid-answer shows the whole answer and follows; stop there ends both", async ({
  context,
}) => {
  const first = await context.newPage();
  await ask(first);
  const second = await context.newPage();
  await second.goto(first.url());
  // From its first token, then live.
  await expect
    .poll(async () => (await tokensShown(second)).length)
    .toBeGreaterThan((await tokensShown(first)).length - 5);
  expect((await tokensShown(second))[0]).toBe(1);
  await second.getByRole("button", { name: "Stop" }).click();
  for (const page of [first, second]) {
    await expect(page.getByTestId("chat-status")).toHaveAttribute("data-status", "ready");
  }
  const shown = await tokensShown(first);
  expect(shown.length).toBeLessThan(200);
  expect(shown).toEqual(upTo(shown.length));
  expect(await tokensShown(second)).toEqual(shown);
});

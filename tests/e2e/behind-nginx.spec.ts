import { type BrowserContext, expect, test } from "@playwright/test";
import { TEST_PUBLISH_TOKEN, TEST_SECRET, testEnv, uniqueChannel } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { startNginx, type TestNginx } from "../support/nginx";

// The deploy path as operators run it: two `npm start` instances on one Redis behind nginx
// with the config the project ships (deploy/nginx.conf). Browsers talk only to nginx, which
// balances their pages, actions and streams over both instances.
test.describe.configure({ mode: "serial" });

let servers: TestServer[] = [];
let nginx: TestNginx;
let redisChannelPrefix = "";

test.beforeAll(async () => {
  const env = {
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_SECRET: TEST_SECRET,
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_TRUST_PROXY: "1",
  };
  servers = await Promise.all([startAppServer(env), startAppServer(env)]);
  nginx = await startNginx(servers.map((s) => s.port));
  redisChannelPrefix = uniqueChannel("nginx");
});

test.afterAll(async () => {
  await nginx?.stop();
  await Promise.all(servers.map((s) => s.stop()));
});

test("the quickstart through nginx: /hello in one tab raises the alert in the other", async ({
  context,
}) => {
  const page = await context.newPage();
  // A channel of its own: other tests publish greetings on `sse`.
  await page.goto(`${nginx.url}/?channel=${redisChannelPrefix}`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  const dialog = page.waitForEvent("dialog");
  const response = await fetch(`${nginx.url}/api/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${TEST_PUBLISH_TOKEN}` },
    body: JSON.stringify({
      channel: redisChannelPrefix,
      type: "greeting",
      data: { message: "Hello!" },
    }),
  });
  expect(response.status).toBe(200);
  const alert = await dialog;
  expect(alert.message()).toBe("The server says Hello!");
  await alert.accept();
});

test("a private channel and its members through nginx, browsers on either instance", async ({
  browser,
}) => {
  const contexts: BrowserContext[] = [await browser.newContext(), await browser.newContext()];
  try {
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    for (const page of pages) {
      await page.goto(`${nginx.url}/`);
      await expect(page.getByTestId("private-status")).toHaveAttribute("data-status", "open");
    }
    // Members across instances: each browser sees both (and anyone else on the demo channel).
    for (const page of pages) {
      await expect.poll(() => page.getByTestId("private-member").count()).toBeGreaterThanOrEqual(2);
    }
    await pages[0].getByRole("button", { name: "Publish a private greeting" }).click();
    for (const page of pages) {
      await expect(page.getByTestId("private-event")).toContainText(["Hello, private channel!"]);
    }
  } finally {
    for (const c of contexts) await c.close();
  }
});

test("resume through nginx: a stream dropped by one instance's restart resumes on the other, nothing lost", async ({
  page,
}) => {
  const channel = uniqueChannel("nginx-resume");
  await page.goto(`${nginx.url}/?channel=${channel}`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  const publish = (message: string) =>
    fetch(`${nginx.url}/api/publish`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${TEST_PUBLISH_TOKEN}`,
      },
      body: JSON.stringify({ channel, type: "greeting", data: { message } }),
    });
  page.on("dialog", (dialog) => void dialog.accept().catch(() => {}));
  await publish("one");
  await expect(page.getByTestId("event")).toHaveCount(1);
  // Both instances restart, one after the other: the page's stream is on one of them.
  for (let i = 0; i < servers.length; i++) {
    const old = servers[i];
    await old.stop("SIGTERM");
    servers[i] = await startAppServer(
      {
        SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
        SSE_SECRET: TEST_SECRET,
        SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
        SSE_TRUST_PROXY: "1",
      },
      { port: old.port },
    );
    await publish(`after restart ${i + 1}`);
  }
  await expect(page.getByTestId("event")).toHaveCount(3);
  // Newest first, each once.
  await expect(page.getByTestId("event")).toContainText([
    "after restart 2",
    "after restart 1",
    "one",
  ]);
});

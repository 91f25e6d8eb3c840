import { createServer, type Server, Socket } from "node:net";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, TEST_SECRET, uniqueChannel } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { getFreePort } from "../support/ports";
import { startRedisServer, type TestRedis } from "../support/redis-server";
import { openStream } from "../support/sse-client";

// The browser client as deployed apps meet the world: each test runs its own server (and
// Redis where it matters), breaks something, and checks that every event published shows
// exactly once, in order, in a real Chromium page. Times to recover are printed.

test.describe.configure({ mode: "serial" });
test.setTimeout(60_000);

const SETTINGS = {
  SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  SSE_SECRET: TEST_SECRET,
  SSE_DEMO_PUBLISH_PER_MINUTE: "100000",
};

function panel(page: Page, channel: string) {
  return page.locator(`[data-testid="panel"][data-channel="${channel}"]`);
}

/** The events a panel shows, as published (`e1`, `e2`, …): all of them, once, in order. */
async function expectShown(page: Page, channel: string, numbers: number[]): Promise<void> {
  await expect(panel(page, channel).getByTestId("panel-event")).toHaveText(
    numbers.map((n) => `e${n}`),
    { timeout: 20_000 },
  );
}

async function publish(server: TestServer, channel: string, numbers: number[]): Promise<void> {
  for (const n of numbers) {
    const response = await publishViaApi({ channel, data: `e${n}` }, { base: server.url });
    expect(response.status).toBe(200);
  }
}

async function openPanels(context: BrowserContext, base: string, channels: string[]) {
  const page = await context.newPage();
  await page.goto(`${base}/panels?${channels.map((c) => `channel=${c}`).join("&")}`);
  for (const channel of channels) {
    await expect(panel(page, channel).getByTestId("panel-status")).toHaveAttribute(
      "data-status",
      "open",
    );
  }
  return page;
}

async function openStreams(server: TestServer): Promise<number> {
  return (await (await fetch(`${server.url}/api/health`)).json()).streams;
}

/** Resolves when `check` holds, with the ms it took. */
async function timeUntil(check: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await check();
  return Date.now() - started;
}

test.describe("with Redis", () => {
  let redis: TestRedis;
  test.beforeAll(async () => {
    redis = await startRedisServer();
  });
  test.afterAll(async () => {
    await redis.stop();
  });

  test("a server stopped with SIGTERM and started again on its port: the page resumes", async ({
    context,
  }) => {
    const settings = { ...SETTINGS, SSE_REDIS_URL: redis.url };
    const channel = uniqueChannel("restart");
    const first = await startAppServer(settings);
    const page = await openPanels(context, first.url, [channel]);
    await publish(first, channel, [1, 2, 3]);
    await expectShown(page, channel, [1, 2, 3]);
    expect(await first.stop("SIGTERM")).toBe(143);
    const second = await startAppServer(settings, { port: first.port });
    try {
      await publish(second, channel, [4, 5, 6]);
      const ms = await timeUntil(() => expectShown(page, channel, [1, 2, 3, 4, 5, 6]));
      console.info(`[client] restart: events again ${ms} ms after the new server answered`);
    } finally {
      await second.stop();
    }
  });

  test("a restart while Redis is down (503s), then Redis back: the page resumes", async ({
    context,
  }) => {
    const own = await startRedisServer();
    const settings = { ...SETTINGS, SSE_REDIS_URL: own.url, SSE_REDIS_TIMEOUT_MS: "1000" };
    const channel = uniqueChannel("outage");
    const first = await startAppServer(settings);
    const page = await openPanels(context, first.url, [channel]);
    await publish(first, channel, [1, 2]);
    await expectShown(page, channel, [1, 2]);
    await own.stop();
    await first.stop("SIGTERM");
    const second = await startAppServer(settings, { port: first.port });
    try {
      const status = panel(page, channel).getByTestId("panel-status");
      // It keeps trying through the 503s, backing off.
      await expect(status).toHaveAttribute("data-attempt", /^([2-9]|\d\d)$/, { timeout: 20_000 });
      await expect(status).toHaveAttribute("data-status", "reconnecting");
      await own.restart();
      const ms = await timeUntil(() =>
        expect(status).toHaveAttribute("data-status", "open", { timeout: 40_000 }),
      );
      console.info(`[client] Redis outage: open again ${ms} ms after Redis came back`);
      await publish(second, channel, [3, 4]);
      await expectShown(page, channel, [1, 2, 3, 4]);
    } finally {
      await second.stop();
      await own.stop();
    }
  });
});

test("at the connection limit (503, Retry-After): the page waits as told, then opens", async ({
  context,
}) => {
  const server = await startAppServer({ ...SETTINGS, SSE_MAX_CONNECTIONS: "1" });
  try {
    const channel = uniqueChannel("full");
    const holder = await openStream(`${server.url}/stream?channel=other`);
    const page = await context.newPage();
    const asked = Date.now();
    await page.goto(`${server.url}/panels?channel=${channel}`);
    const status = panel(page, channel).getByTestId("panel-status");
    await expect(status).toHaveAttribute("data-status", "reconnecting");
    await expect(status).toHaveAttribute("title", /limit of 1 streams/);
    holder.close();
    await expect(status).toHaveAttribute("data-status", "open", { timeout: 15_000 });
    const waited = Date.now() - asked;
    console.info(
      `[client] connection limit: open ${waited} ms after the first try (Retry-After 5 s)`,
    );
    expect(waited).toBeGreaterThanOrEqual(4900);
    await publish(server, channel, [1, 2]);
    await expectShown(page, channel, [1, 2]);
  } finally {
    await server.stop();
  }
});

test("the browser goes offline and online: nothing lost, nothing twice", async ({ context }) => {
  const server = await startAppServer(SETTINGS);
  try {
    const channel = uniqueChannel("offline");
    const page = await openPanels(context, server.url, [channel]);
    await publish(server, channel, [1]);
    await expectShown(page, channel, [1]);
    await context.setOffline(true);
    await publish(server, channel, [2, 3]);
    await context.setOffline(false);
    await publish(server, channel, [4]);
    const ms = await timeUntil(() => expectShown(page, channel, [1, 2, 3, 4]));
    console.info(`[client] offline/online: all events ${ms} ms after going online`);
  } finally {
    await server.stop();
  }
});

/** A loopback TCP proxy that can stop forwarding what its open connections receive. */
async function startProxy(targetPort: number) {
  const pairs: Array<[Socket, Socket]> = [];
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(targetPort, "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    pairs.push([client, upstream]);
  });
  const port = await getFreePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    /** Open connections go silent: nothing the server sends reaches the browser. */
    silence: () => {
      for (const [client, upstream] of pairs.splice(0)) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    close: () => {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      server.close();
    },
  };
}

test("a connection that goes silent without closing is found and replaced", async ({ context }) => {
  const server = await startAppServer({ ...SETTINGS, SSE_HEARTBEAT_MS: "1000" });
  const proxy = await startProxy(server.port);
  try {
    const channel = uniqueChannel("silent");
    const page = await openPanels(context, proxy.url, [channel]);
    await publish(server, channel, [1]);
    await expectShown(page, channel, [1]);
    proxy.silence();
    await publish(server, channel, [2, 3]);
    const ms = await timeUntil(() => expectShown(page, channel, [1, 2, 3]));
    console.info(`[client] silent connection: replaced, events ${ms} ms after it went silent`);
    // 2.5 heartbeats of silence before it is called dead.
    expect(ms).toBeGreaterThanOrEqual(2000);
    await publish(server, channel, [4]);
    await expectShown(page, channel, [1, 2, 3, 4]);
  } finally {
    proxy.close();
    await server.stop();
  }
});

test("a token that expires mid-stream is refreshed through getToken, and the stream resumes", async ({
  page,
}) => {
  const server = await startAppServer({ ...SETTINGS, SSE_TOKEN_TTL_SECONDS: "3" });
  try {
    const say = (message: string) =>
      publishViaApi(
        { channel: "private-demo", type: "greeting", data: { message } },
        { base: server.url },
      );
    // The quickstart's alert (the server stops at the end): accepted, or gone with the page.
    page.on("dialog", (dialog) => dialog.accept().catch(() => {}));
    await page.goto(`${server.url}/`);
    const status = page.getByTestId("private-status");
    await expect(status).toHaveAttribute("data-status", "open");
    expect((await say("before")).status).toBe(200);
    await expect(page.getByTestId("private-event")).toHaveText(["before"]);
    // Past the first token's expiry (3 s, plus 5 s of clock tolerance): the server ends that
    // stream, the page gets a fresh token from the Server Action and opens another.
    const opened = async () =>
      Number(
        /^sse_streams_opened_total (\d+)$/m.exec(
          await (await fetch(`${server.url}/api/metrics`)).text(),
        )?.[1],
      );
    const first = await opened();
    await expect.poll(opened, { timeout: 20_000 }).toBeGreaterThan(first);
    expect((await say("after")).status).toBe(200);
    await expect(page.getByTestId("private-event")).toHaveText(["after", "before"]);
    await expect(status).toHaveAttribute("data-status", "open");
  } finally {
    await server.stop();
  }
});

test("eight tabs share one stream; closing the first hands over without loss", async ({
  browser,
}) => {
  const server = await startAppServer(SETTINGS);
  try {
    for (const kind of ["SharedWorker", "leader tab (no SharedWorker)"]) {
      const channel = uniqueChannel("tabs");
      const context = await browser.newContext();
      if (kind !== "SharedWorker") {
        await context.addInitScript(() => {
          Object.defineProperty(window, "SharedWorker", { value: undefined });
        });
      }
      const pages: Page[] = [];
      for (let i = 0; i < 8; i++) pages.push(await openPanels(context, server.url, [channel]));
      await expect.poll(() => openStreams(server)).toBe(1);
      await publish(server, channel, [1, 2, 3]);
      for (const page of pages) await expectShown(page, channel, [1, 2, 3]);
      // The first tab holds the leader lock; its stream goes with it.
      await pages[0].close({ runBeforeUnload: true });
      await publish(server, channel, [4, 5, 6]);
      const ms = await timeUntil(async () => {
        for (const page of pages.slice(1)) await expectShown(page, channel, [1, 2, 3, 4, 5, 6]);
      });
      console.info(`[client] ${kind}: 7 tabs had every event ${ms} ms after the first closed`);
      await expect.poll(() => openStreams(server)).toBe(1);
      await context.close();
      await expect.poll(() => openStreams(server)).toBe(0);
    }
  } finally {
    await server.stop();
  }
});

test("three components on three channels hold one connection", async ({ context }) => {
  const server = await startAppServer(SETTINGS);
  try {
    const channels = [uniqueChannel("p1"), uniqueChannel("p2"), uniqueChannel("p3")];
    const page = await openPanels(context, server.url, channels);
    expect(await openStreams(server)).toBe(1);
    await publish(server, channels[0], [1]);
    await publish(server, channels[1], [2]);
    await publish(server, channels[2], [3]);
    await expectShown(page, channels[0], [1]);
    await expectShown(page, channels[1], [2]);
    await expectShown(page, channels[2], [3]);
  } finally {
    await server.stop();
  }
});

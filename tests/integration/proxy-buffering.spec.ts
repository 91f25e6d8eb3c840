import { expect, test } from "@playwright/test";
import { PROXY_BUFFERING_MESSAGE, StreamConnection } from "../../lib/client/connection";
import type { StreamState } from "../../lib/client/stream-state";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { startNginx, type TestNginx } from "../support/nginx";

// A proxy someone left buffering (nginx `proxy_buffering on` for /stream): SSE that works
// locally arrives all at once when deployed. The browser client notices that the server's
// hello, sent with the headers, did not come, and its `error` says what to change.
let server: TestServer;

test.beforeAll(async () => {
  server = await startAppServer({
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  });
});

test.afterAll(() => server?.stop());

async function follow(nginx: TestNginx) {
  const channel = uniqueChannel("buffered");
  const states: StreamState[] = [];
  const events: string[] = [];
  const connection = new StreamConnection({
    url: `${nginx.url}/stream`,
    channels: [channel],
    onEvent: (event) => {
      if (event.type === "message") events.push(event.data);
    },
    onState: (state) => states.push(state),
  });
  connection.start();
  return { channel, states, events, connection };
}

for (const buffering of [true, false]) {
  test(`through nginx with proxy_buffering ${buffering ? "on: the client says so" : "off (as shipped): no such error, events flow"}`, async () => {
    const nginx = await startNginx([server.port], { buffering });
    const { channel, states, events, connection } = await follow(nginx);
    try {
      if (buffering) {
        await expect
          .poll(() => states.at(-1)?.errorCode, { timeout: 10_000 })
          .toBe("proxy_buffering");
        expect(states.at(-1)?.error).toBe(PROXY_BUFFERING_MESSAGE);
      } else {
        await expect.poll(() => states.at(-1)?.status).toBe("open");
        await publishViaApi({ channel, data: "live" }, { base: nginx.url });
        await expect.poll(() => events).toEqual(["live"]);
        await new Promise((resolve) => setTimeout(resolve, 3500));
        expect(states.some((state) => state.errorCode === "proxy_buffering")).toBe(false);
      }
    } finally {
      connection.close();
      await nginx.stop();
    }
  });
}

import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { SERVING_WAYS, startServer } from "../support/next-server";
import { isListening } from "../support/ports";
import { openStream } from "../support/sse-client";

/** Whether a new TCP connection to the port is refused (what a reconnecting browser meets). */
const refused = async (port: number) => !(await isListening(port));

/**
 * A connection that has sent the first bytes of a request before the shutdown, so the
 * server counts it as busy (not idle) and answers it once the rest arrives.
 */
function startRequest(port: number, path: string) {
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  socket.on("data", (chunk) => {
    answer += chunk.toString();
  });
  socket.on("error", () => {});
  const ready = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return {
    ready: ready.then(() => new Promise<void>((resolve) => socket.write("GET ", () => resolve()))),
    finish: () =>
      new Promise<string>((resolve) => {
        socket.once("close", () => resolve(answer));
        socket.write(`${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      }),
  };
}

for (const { kind, label, env } of SERVING_WAYS) {
  test(`${label}: SIGTERM closes the listener, ends streams with a reconnect hint, drains health, and exits once they are gone`, async () => {
    test.setTimeout(60_000);
    const server = await startServer(kind, {
      SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
      SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
      SSE_SHUTDOWN_TIMEOUT_MS: "20000",
      ...env,
    });
    const channel = uniqueChannel("drain");
    const s = await openStream(`${server.url}/stream?channel=${channel}`);
    await publishViaApi({ channel, data: "before" });
    await s.waitForEvents(1);
    const probe = startRequest(server.port, "/api/health");
    await probe.ready;

    const started = Date.now();
    const exited = server.stop("SIGTERM");
    await s.ended;
    expect(s.raw()).toMatch(/: reconnect\nretry: \d+\n\n$/);
    // A reconnecting browser is refused at TCP and retries, rather than given a 503.
    expect(await refused(server.port)).toBe(true);
    // A request already on its way is answered: health says the server is draining.
    const answer = await probe.finish();
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toContain('"status":"draining"');

    // Published while the client is between servers; it resumes on another one.
    await publishViaApi({ channel, data: "during" });
    const resumed = await openStream(`${testEnv("APP_URL")}/stream?channel=${channel}`, {
      "Last-Event-ID": s.lastEventId ?? "",
    });
    expect((await resumed.waitForEvents(1)).map((e) => e.data)).toEqual(["during"]);
    resumed.close();
    expect(await exited).toBe(143);
    // Well before SSE_SHUTDOWN_TIMEOUT_MS: nothing was left to wait for.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
}

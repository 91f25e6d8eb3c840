import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { startAppServer, startServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// `npm start`, the production server: /stream on the Node sink, everything else through
// Next.js's request handler, one process and one port (or several workers on that port).
const health = async (base: string) => (await fetch(`${base}/api/health`)).json();

test("serves /stream on the Node sink and pages, APIs and other methods through Next.js", async () => {
  const app = testEnv("APP_URL");
  const s = await openStream(`${app}/stream?channel=${uniqueChannel()}`);
  expect(s.response.status).toBe(200);
  await expect.poll(async () => (await health(app)).sinks.node).toBeGreaterThan(0);
  const page = await fetch(`${app}/`);
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(await page.text()).toContain("next-sse");
  // Not a stream method: Next.js's route answers it.
  expect((await fetch(`${app}/stream`, { method: "POST" })).status).toBe(405);
  s.close();
  // Under `next start` the same stream is a route handler's web stream.
  const viaNext = await openStream(`${testEnv("NEXT_APP_URL")}/stream?channel=${uniqueChannel()}`);
  await expect
    .poll(async () => (await health(testEnv("NEXT_APP_URL"))).sinks)
    .toMatchObject({ node: 0, web: expect.any(Number) });
  expect((await health(testEnv("NEXT_APP_URL"))).sinks.web).toBeGreaterThan(0);
  viaNext.close();
});

/** Sends raw request bytes; resolves with what came back once `until` matches it. */
async function exchange(
  base: string,
  requests: string[],
  until: RegExp,
  /** When set, each request after the first waits until what came back matches this. */
  answered?: RegExp,
): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  let received = "";
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("close", () => reject(new Error(`closed after: ${received}`)));
      const late = setTimeout(
        () => reject(new Error(`no answer in 10 s to ${JSON.stringify(requests)}: ${received}`)),
        10_000,
      );
      socket.on("close", () => clearTimeout(late));
      const queue = [...requests];
      socket.on("data", (data) => {
        received += data.toString("latin1");
        if (until.test(received)) resolve(received);
        else if (answered?.test(received) && queue.length > 0) {
          socket.write(queue.shift() as string);
        }
      });
      if (answered === undefined) for (const request of queue.splice(0)) socket.write(request);
      else socket.write(queue.shift() as string);
    });
  } finally {
    socket.destroy();
  }
}

test("npm start reads plain /stream requests off the socket and leaves any other to Node's parser", async () => {
  const app = testEnv("APP_URL");
  const get = `GET /stream?channel=${uniqueChannel()} HTTP/1.1\r\nHost: x\r\n`;
  const streaming = /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n: connected\n[\s\S]*event: position\n/;
  // Plain: the fast path, which closes the connection after the stream.
  const plain = await exchange(app, [`${get}\r\n`], streaming);
  expect(plain).toMatch(/\r\nConnection: close\r\n/);
  // A repeated header and a declared body are Node's to parse: still a stream.
  await exchange(app, [`${get}X-A: 1\r\nX-A: 2\r\n\r\n`], streaming);
  await exchange(app, [`${get}Content-Length: 0\r\n\r\n`], streaming);
  // A kept-alive connection's second request, after a page: Node's parser, the same stream.
  const health = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
  // (The second is sent once the first is answered, as browsers do: they do not pipeline.)
  const both = await exchange(app, [health, `${get}\r\n`], streaming, /\r\n0\r\n\r\n$/);
  expect(both).toMatch(/"status":"ok"/);
  // Pipelined behind a page still being rendered: its stream waits for the page, then flows.
  const page = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const piped = await exchange(app, [page, `${get}\r\n`], streaming);
  expect(piped).toMatch(/<html/);
  expect(piped.indexOf("</html>")).toBeLessThan(piped.indexOf(": connected\n"));
  // What Node refuses it still refuses: a malformed head gets its 400, not a stream.
  const bad = await exchange(app, [`${get}X-A: 1\r\n two\r\n\r\n`], /\r\n\r\n/);
  expect(bad).toMatch(/^HTTP\/1\.1 400 /);
  // An error from the stream core on the fast path: its JSON, then the connection closes.
  const refused = await exchange(
    app,
    ["GET /stream?channel=a%20b HTTP/1.1\r\nHost: x\r\n\r\n"],
    /\}\}$/,
  );
  expect(refused).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(refused).toMatch(/"code":"invalid_channel"/);
  expect(refused).toMatch(/\r\nContent-Length: \d+\r\n/);
});

test("without Redis, publishes from a route handler and the API reach Node-served streams", async () => {
  const base = testEnv("MEMORY_APP_URL");
  const s = await openStream(`${base}/stream`);
  await expect.poll(async () => (await health(base)).sinks.node).toBeGreaterThan(0);
  expect(await (await fetch(`${base}/hello`)).text()).toBe("Message sent!");
  const [event] = await s.waitForEvents(1);
  expect(event.event).toBe("greeting");
  s.close();
});

for (const kind of ["npm start", "next start"] as const) {
  test(`${kind}: an invalid setting stops the server at start, naming the variable`, async () => {
    const started = startServer(kind, { SSE_HEARTBEAT_MS: "soon", SSE_REDIS_URL: "http://nope" });
    await expect(started).rejects.toThrow(
      /invalid next-sse settings: SSE_REDIS_URL: .*SSE_HEARTBEAT_MS/,
    );
  });
}

test("SSE_WORKERS runs several processes on one port, coordinated through Redis", async () => {
  test.setTimeout(60_000);
  const server = await startAppServer({
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_WORKERS: "2",
  });
  try {
    const workers = execFileSync("pgrep", ["-P", String(server.pid)], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(workers).toHaveLength(2);
    // Both listening (each says so once Next.js is prepared), so connections reach both.
    await expect
      .poll(() => server.output().match(/production server on \S+ \(worker \d+\)/g)?.length ?? 0)
      .toBe(2);
    const channel = uniqueChannel("workers");
    // Connections are spread over the workers; every stream gets every event.
    const streams = await Promise.all(
      Array.from({ length: 8 }, () => openStream(`${server.url}/stream?channel=${channel}`)),
    );
    const published = await publishViaApi(
      { channel, data: "to every worker" },
      { base: server.url },
    );
    expect((await published.json()).receivers).toBe(2);
    for (const s of streams) {
      expect((await s.waitForEvents(1)).map((e) => e.data)).toEqual(["to every worker"]);
      s.close();
    }
    expect(await server.stop("SIGTERM")).toBe(143);
  } finally {
    await server.stop("SIGKILL");
  }
});

test("SSE_WORKERS without Redis runs one process, and says why", async () => {
  const server = await startAppServer({ SSE_WORKERS: "2" });
  try {
    expect(server.output()).toMatch(/SSE_WORKERS=2 needs Redis/);
    const children = (() => {
      try {
        return execFileSync("pgrep", ["-P", String(server.pid)], { encoding: "utf8" }).trim();
      } catch {
        return ""; // pgrep exits 1 when there is none
      }
    })();
    expect(children).toBe("");
  } finally {
    await server.stop();
  }
});

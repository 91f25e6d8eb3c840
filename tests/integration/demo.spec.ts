import { get } from "node:http";
import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { testEnv } from "../support/env";
import { type ServerKind, startServer, type TestServer } from "../support/next-server";

// The demo publishes without a publish token, so it is fenced. Server Actions are covered
// in the browser (tests/e2e/demo-actions.spec.ts); here, the routes.
const errorOf = async (response: Response) => (await response.json()).error;

/** GET with exactly these headers (fetch() sets Sec-Fetch-Mode itself). */
function getStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

test("/hello refuses a cross-site subresource request, and publishes for a navigation", async () => {
  const hello = `${testEnv("APP_URL")}/hello`;
  // What a browser sends for <img src="https://this.app/hello"> on another site.
  const image = { "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors" };
  expect(await getStatus(hello, { ...image, "Sec-Fetch-Dest": "image" })).toBe(403);
  const scripted = { "Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors" };
  expect(await getStatus(hello, scripted)).toBe(403);
  // A link followed from another site, a tab of this site, a typed URL: all publish.
  for (const site of ["cross-site", "same-origin", "none"]) {
    const navigation = { "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate" };
    expect(await getStatus(hello, { ...navigation, "Sec-Fetch-Dest": "document" })).toBe(200);
  }
  // The refusal is a JSON error naming the problem.
  const refused = await fetch(hello, { headers: { "Sec-Fetch-Site": "cross-site" } });
  expect((await errorOf(refused)).code).toBe("cross_site_request");
});

for (const kind of ["npm start", "next start"] as ServerKind[]) {
  test.describe(`demo fences (${kind})`, () => {
    let limited: TestServer;
    let off: TestServer;
    test.beforeAll(async () => {
      [limited, off] = await Promise.all([
        startServer(kind, { SSE_DEMO_PUBLISH_PER_MINUTE: "3" }),
        startServer(kind, { SSE_DEMO: "off" }),
      ]);
    });
    test.afterAll(() => Promise.all([limited?.stop(), off?.stop()]));

    test("one client gets SSE_DEMO_PUBLISH_PER_MINUTE publishes, then 429 with Retry-After", async () => {
      for (let i = 0; i < 3; i++) expect((await fetch(`${limited.url}/hello`)).status).toBe(200);
      const refused = await fetch(`${limited.url}/hello`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await errorOf(refused)).code).toBe("rate_limited");
    });

    test("SSE_DEMO=off: the demo's pages and /hello answer 404, streams still work", async () => {
      const hello = await fetch(`${off.url}/hello`);
      expect(hello.status).toBe(404);
      expect((await errorOf(hello)).message).toMatch(/SSE_DEMO=off/);
      for (const page of [
        "/",
        "/playground",
        "/orders",
        "/chat",
        "/panels",
        "/docs/guide/live-pages",
      ]) {
        expect((await fetch(`${off.url}${page}`)).status).toBe(404);
      }
      // The demo chat's routes too (lib/ai stays, for your own routes).
      const chat = await fetch(`${off.url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: "c1", messages: [] }),
      });
      expect(chat.status).toBe(404);
      expect((await fetch(`${off.url}/api/chat/c1/stream`)).status).toBe(404);
      expect((await fetch(`${off.url}/api/chat/c1/stop`, { method: "POST" })).status).toBe(404);
      const stream = await fetch(`${off.url}/stream`, { method: "HEAD" });
      expect(stream.status).toBe(200);
    });
  });
}

test("npm start: a client cannot choose its rate-limit address with X-Forwarded-For", async () => {
  const server = await startServer("npm start", { SSE_DEMO_PUBLISH_PER_MINUTE: "2" });
  try {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/hello`, {
        headers: { "X-Forwarded-For": `203.0.113.${i}` },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  } finally {
    await server.stop();
  }
});

/** Sends raw bytes and returns the raw answer (for requests fetch() cannot make). */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

test("npm start: TRACE is 405 and a malformed absolute-form target 400, as JSON", async () => {
  const port = Number(new URL(testEnv("APP_URL")).port);
  const trace = await rawRequest(port, "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  expect(trace).toMatch(/^HTTP\/1\.1 405/);
  expect(trace).toContain('"code":"method_not_allowed"');
  const bad = await rawRequest(
    port,
    "GET http://%zz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  expect(bad).toMatch(/^HTTP\/1\.1 400/);
  const absolute = await rawRequest(
    port,
    "GET http://example.test/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  expect(absolute).toMatch(/^HTTP\/1\.1 200/);
});

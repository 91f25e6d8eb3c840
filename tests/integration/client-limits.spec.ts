import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, uniqueChannel } from "../support/env";
import { SERVING_WAYS, startServer, type TestServer } from "../support/next-server";
import { openStream, type TestStream } from "../support/sse-client";

// What one client may hold or send: streams at once, publishes a minute, time to send a body.
const errorOf = async (response: Response) => (await response.json()).error;

for (const { kind, label, env } of SERVING_WAYS) {
  test.describe(`client limits (${label})`, () => {
    let server: TestServer;
    test.beforeAll(async () => {
      server = await startServer(kind, {
        ...env,
        SSE_MAX_STREAMS_PER_CLIENT: "2",
        SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
        SSE_PUBLISH_PER_MINUTE: "3",
        SSE_BODY_TIMEOUT_MS: "1000",
        SSE_CORS_ORIGINS: "*",
      });
    });
    test.afterAll(() => server?.stop());

    test("SSE_CORS_ORIGINS=* answers a literal * without credentials", async () => {
      const s = await openStream(`${server.url}/stream?channel=${uniqueChannel()}`, {
        Origin: "https://any.example",
      });
      expect(s.response.headers.get("access-control-allow-origin")).toBe("*");
      expect(s.response.headers.get("access-control-allow-credentials")).toBeNull();
      s.close();
      const preflight = await fetch(`${server.url}/stream`, {
        method: "OPTIONS",
        headers: { Origin: "https://any.example", "Access-Control-Request-Method": "GET" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    });

    test("one client holds SSE_MAX_STREAMS_PER_CLIENT streams, then 429, and room again after", async () => {
      const channel = uniqueChannel("client");
      const held: TestStream[] = [];
      for (let i = 0; i < 2; i++) {
        held.push(await openStream(`${server.url}/stream?channel=${channel}`));
        expect(held[i].response.status).toBe(200);
      }
      const refused = await openStream(`${server.url}/stream?channel=${channel}`);
      expect(refused.response.status).toBe(429);
      expect(Number(refused.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(5);
      expect((await errorOf(refused.response)).code).toBe("too_many_client_streams");
      held[0].close();
      await expect
        .poll(async () => {
          const again = await openStream(`${server.url}/stream?channel=${channel}`);
          again.close();
          return again.response.status;
        })
        .toBe(200);
      held[1].close();
    });

    test("a publish body that trickles in is cut at SSE_BODY_TIMEOUT_MS with 408", async () => {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, "127.0.0.1", () => {
          socket.write(
            `POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_PUBLISH_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{"data":`,
          );
        });
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString();
          if (/\r\n\r\n[\s\S]*\}\}/.test(text)) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain('"code":"request_timeout"');
    });
    // After the body test: its request counts as one of the minute's 3.
    test("the publish API takes SSE_PUBLISH_PER_MINUTE requests a minute from one client, then 429", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await publishViaApi({ channel: "rate", data: i }, { base: server.url });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
          expect((await errorOf(response)).code).toBe("rate_limited");
        }
      }
      expect(statuses).toEqual([200, 200, 429, 429]);
    });
  });
}

for (const fastPath of ["on", "off"]) {
  test(`npm start, fast path ${fastPath}: a spoofed X-Forwarded-For buys no more streams`, async () => {
    const server = await startServer("npm start", {
      SSE_MAX_STREAMS_PER_CLIENT: "1",
      SSE_FAST_PATH: fastPath,
    });
    try {
      const first = await openStream(`${server.url}/stream`, { "X-Forwarded-For": "203.0.113.1" });
      const second = await openStream(`${server.url}/stream`, { "X-Forwarded-For": "203.0.113.2" });
      expect([first.response.status, second.response.status]).toEqual([200, 429]);
      first.close();
    } finally {
      await server.stop();
    }
  });
}

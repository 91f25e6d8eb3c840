import { expect, test } from "@playwright/test";
import { mintTestToken, TEST_SECRET, testEnv } from "../support/env";
import { type ServerKind, startServer, type TestServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// Streams an app rule admitted (the session cookie of `user-<sub>` channels, no token
// `exp`) are asked again every SSE_REAUTHORIZE_SECONDS, and end when the rule refuses.

for (const kind of ["npm start", "next start"] as ServerKind[]) {
  test.describe(kind, () => {
    let server: TestServer;
    test.beforeAll(async () => {
      server = await startServer(kind, {
        SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
        SSE_SECRET: TEST_SECRET,
        SSE_REAUTHORIZE_SECONDS: "1",
      });
    });
    test.afterAll(() => server.stop());

    test("a session that ends ends its stream with end unauthorized and retry: 0", async () => {
      const sub = `carol-${Date.now().toString(36)}`;
      // A session cookie that expires in a second (plus the 5 s clock tolerance).
      const session = mintTestToken([`session.${sub}`], 1, TEST_SECRET, {
        sub,
        iat: Math.floor(Date.now() / 1000),
      });
      const stream = await openStream(`${server.url}/stream?channel=user-${sub}`, {
        Cookie: `sse_session=${session}`,
      });
      expect(stream.response.status).toBe(200);
      await stream.ended;
      expect(stream.raw()).toMatch(
        /event: end\ndata: \{"reason":"unauthorized"\}\n\n(.|\n)*retry: 0\n/,
      );
      // And the same cookie is refused from now on.
      const again = await openStream(`${server.url}/stream?channel=user-${sub}`, {
        Cookie: `sse_session=${session}`,
      });
      expect(again.response.status).toBe(401);
      expect((await again.response.json()).error.code).toBe("login_required");
    });

    test("a public stream is not ended by the cadence", async () => {
      const stream = await openStream(`${server.url}/stream?channel=public-${Date.now()}`);
      const session = mintTestToken(["session.dave"], 60, TEST_SECRET, { sub: "dave" });
      const own = await openStream(`${server.url}/stream?channel=user-dave`, {
        Cookie: `sse_session=${session}`,
      });
      expect(own.response.status).toBe(200);
      // Three rounds of the cadence: both still open.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(stream.raw()).not.toContain("event: end");
      expect(own.raw()).not.toContain("event: end");
      stream.close();
      own.close();
    });
  });
}

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

    test("a session that ends ends its stream (end unauthorized, then a reconnect hint); public and live sessions go on", async () => {
      const carol = `carol-${Date.now().toString(36)}`;
      // A session cookie that expires in a second (plus the 5 s clock tolerance), one that
      // lives on, and a public stream beside them.
      const ending = mintTestToken([`session.${carol}`], 1, TEST_SECRET, { sub: carol });
      const living = mintTestToken(["session.dave"], 60, TEST_SECRET, { sub: "dave" });
      const stream = await openStream(`${server.url}/stream?channel=user-${carol}`, {
        Cookie: `sse_session=${ending}`,
      });
      const own = await openStream(`${server.url}/stream?channel=user-dave`, {
        Cookie: `sse_session=${living}`,
      });
      const open = await openStream(`${server.url}/stream?channel=public-${Date.now()}`);
      expect([stream, own, open].map((s) => s.response.status)).toEqual([200, 200, 200]);
      await stream.ended;
      expect(stream.raw()).toMatch(
        /event: end\ndata: \{"reason":"unauthorized"\}\n\n(.|\n)*: reconnect\nretry: \d+\n/,
      );
      // Rounds of the 1 s cadence ran all the while (about 6 s): the others were not ended.
      expect(own.raw()).not.toContain("event: end");
      expect(open.raw()).not.toContain("event: end");
      own.close();
      open.close();
      // And the ended session's cookie is refused from now on.
      const again = await openStream(`${server.url}/stream?channel=user-${carol}`, {
        Cookie: `sse_session=${ending}`,
      });
      expect(again.response.status).toBe(401);
      expect((await again.response.json()).error.code).toBe("login_required");
    });
  });
}

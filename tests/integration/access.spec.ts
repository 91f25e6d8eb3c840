import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import {
  mintTestToken,
  publishViaApi,
  STREAM_SERVERS,
  TEST_ALLOWED_ORIGIN,
  TEST_SECRET,
  testEnv,
  uniqueChannel,
} from "../support/env";
import { SERVING_WAYS, startServer, type TestServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

const app = () => testEnv("APP_URL");

const PYJWT_MINT = `
import os, time, jwt  # PyJWT (pip install pyjwt; Debian: python3-jwt)
token = jwt.encode(
    {"channels": [os.environ["CHANNEL"]], "sub": "user-42", "exp": int(time.time()) + 3600},
    os.environ["SSE_SECRET"],
    algorithm="HS256",
)
print(token)
`;
const JOSE_MINT = `
import { SignJWT } from "jose";
const token = await new SignJWT({ channels: [process.env.CHANNEL] })
  .setProtectedHeader({ alg: "HS256" })
  .setSubject("user-42")
  .setExpirationTime("1h")
  .sign(new TextEncoder().encode(process.env.SSE_SECRET));
console.log(token);
`;
const errorOf = async (response: Response) => (await response.json()).error;

for (const server of STREAM_SERVERS) {
  test.describe(`private channels (${server.name})`, () => {
    const base = server.url;
    const channel = () => uniqueChannel("private-x");

    test("401 without a token, and for a forged, malformed, old-format or expired one, each with its code", async () => {
      const name = channel();
      const missing = await fetch(`${base()}/stream?channel=${name}`);
      expect(missing.status).toBe(401);
      expect(await errorOf(missing)).toEqual({
        code: "token_required",
        message: `channel ${name} is private: pass a token (Authorization: Bearer, the sse_token cookie, or ?token=)`,
      });
      const forged = mintTestToken([name], 60, "another-secret-entirely-0123456789abcdef");
      const cases = [
        [forged, "token_bad_signature"],
        ["garbage", "token_malformed"],
        ["a.b", "token_legacy"],
        [mintTestToken([name], -60), "token_expired"],
      ];
      for (const [token, code] of cases) {
        const response = await fetch(`${base()}/stream?channel=${name}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(401);
        expect((await errorOf(response)).code).toBe(code);
      }
      // A cookie that is not even valid percent-encoding is a bad token too, not a crash.
      const badCookie = await fetch(`${base()}/stream?channel=${name}`, {
        headers: { Cookie: "sse_token=%ZZ" },
      });
      expect(badCookie.status).toBe(401);
      expect((await errorOf(badCookie)).code).toBe("token_malformed");
    });

    test("a token minted in another process by a plain JWT library (PyJWT, jose) opens the stream", async () => {
      const name = channel();
      const env = { ...process.env, SSE_SECRET: TEST_SECRET, CHANNEL: name };
      // The README's two snippets, as another service would run them.
      const python = execFileSync(
        process.env.TEST_PYTHON ?? "/usr/bin/python3",
        ["-c", PYJWT_MINT],
        {
          env,
        },
      );
      const node = execFileSync(process.execPath, ["--input-type=module", "-e", JOSE_MINT], {
        env,
      });
      for (const token of [python, node].map((out) => out.toString().trim())) {
        const stream = await openStream(`${base()}/stream?channel=${name}`, {
          Authorization: `Bearer ${token}`,
        });
        expect(stream.response.status).toBe(200);
        stream.close();
      }
    });

    test("403 for a valid token of other channels", async () => {
      const name = channel();
      const other = await fetch(
        `${base()}/stream?channel=${name}&token=${mintTestToken(["private-other"], 60)}`,
      );
      expect(other.status).toBe(403);
      expect(await errorOf(other)).toEqual({
        code: "channel_forbidden",
        message: `the token does not grant channel ${name}`,
      });
    });

    test("metrics never name a private channel: they sum them as (private)", async () => {
      const name = channel();
      const s = await openStream(
        `${base()}/stream?channel=${name}&token=${mintTestToken([name], 60)}`,
      );
      expect(s.response.status).toBe(200);
      await expect
        .poll(async () => (await fetch(`${base()}/api/metrics`)).text())
        .toMatch(/^sse_channel_subscribers\{channel="\(private\)"\} [1-9]/m);
      expect(await (await fetch(`${base()}/api/metrics`)).text()).not.toContain(name);
      s.close();
    });

    test("a stream ends at its token's expiry with a reason, so the page can refresh and resume", async () => {
      const name = channel();
      // Tokens carry whole seconds: `exp` 3 s ago (rounded down, so up to 4 s) is still
      // inside the 5 s clock tolerance for another 1-2 s; the stream ends then. (-4 left as
      // little as no time at all on a busy machine: a 401 instead of a stream.)
      const s = await openStream(
        `${base()}/stream?channel=${name}&token=${mintTestToken([name], -3)}`,
      );
      expect(s.response.status).toBe(200);
      await s.ended;
      expect(s.raw()).toMatch(
        /event: end\ndata: \{"reason":"token_expired"\}\n\n: reconnect\nretry: \d+\n\n$/,
      );
      // Reconnecting with the expired token is refused with the code the page acts on.
      const again = await fetch(
        `${base()}/stream?channel=${name}&token=${mintTestToken([name], -6)}`,
      );
      expect(again.status).toBe(401);
      expect((await errorOf(again)).code).toBe("token_expired");
    });

    test("a valid token opens the stream, by query or by cookie, with prefix grants", async () => {
      const name = channel();
      const byQuery = await openStream(
        `${base()}/stream?channel=${name}&token=${mintTestToken([name], 60)}`,
      );
      expect(byQuery.response.status).toBe(200);
      const byCookie = await openStream(`${base()}/stream?channel=${name}&channel=public-too`, {
        Cookie: `sse_token=${mintTestToken(["private-x-*"], 60)}`,
      });
      expect(byCookie.response.status).toBe(200);
      await publishViaApi({ channel: name, data: "secret" });
      expect((await byQuery.waitForEvents(1))[0].data).toBe("secret");
      expect((await byCookie.waitForEvents(1))[0].data).toBe("secret");
      byQuery.close();
      byCookie.close();
    });
  });
}

test("400 past the channels-per-stream limit and for an over-long name", async () => {
  for (const server of STREAM_SERVERS) {
    const many = Array.from({ length: 17 }, (_, i) => `channel=c${i}`).join("&");
    const tooMany = await fetch(`${server.url()}/stream?${many}`);
    expect(tooMany.status).toBe(400);
    expect((await errorOf(tooMany)).message).toMatch(/at most 16/);
    const long = await fetch(`${server.url()}/stream?channel=${"x".repeat(129)}`);
    expect(long.status).toBe(400);
    expect((await errorOf(long)).message).toMatch(/1 to 128 characters/);
  }
});

for (const { kind, label, env } of SERVING_WAYS) {
  test.describe(`limits (${label})`, () => {
    // The in-memory `npm start` of the global setup allows 4 streams, and its short-lived
    // one ends streams after a second; the other ways of serving get the same two here.
    let limited: TestServer | undefined;
    let shortLived: TestServer | undefined;
    test.beforeAll(async () => {
      if (label === "npm start") return;
      [limited, shortLived] = await Promise.all([
        startServer(kind, { SSE_MAX_CONNECTIONS: "4", ...env }),
        startServer(kind, { SSE_MAX_STREAM_SECONDS: "1", ...env }),
      ]);
    });
    test.afterAll(() => Promise.all([limited?.stop(), shortLived?.stop()]));

    test("503 with Retry-After past the connections limit, and room again after", async () => {
      const base = limited?.url ?? testEnv("MEMORY_APP_URL");
      const streams = [];
      let refused: Response | undefined;
      for (let i = 0; i < 5 && refused === undefined; i++) {
        const s = await openStream(`${base}/stream?channel=limit-${i}`);
        if (s.response.status === 503) refused = s.response;
        else streams.push(s);
      }
      expect(refused?.status).toBe(503);
      expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(5);
      expect((await errorOf(refused as Response)).code).toBe("too_many_streams");
      for (const s of streams) s.close();
      await expect
        .poll(async () => {
          const again = await openStream(`${base}/stream?channel=limit-again`);
          again.close();
          return again.response.status;
        })
        .toBe(200);
    });

    test("a stream past its maximum lifetime ends cleanly with retry 0", async () => {
      const base = shortLived?.url ?? testEnv("SHORT_APP_URL");
      const s = await openStream(`${base}/stream?channel=${uniqueChannel()}`);
      await s.ended;
      expect(s.raw()).toMatch(/: reconnect\nretry: \d+\n\n$/);
    });
  });
}

test.describe("CORS", () => {
  test("answers a preflight from an allowed origin, refuses others", async () => {
    const urls = [
      ...STREAM_SERVERS.map((server) => `${server.url()}/stream`),
      `${app()}/api/publish`,
    ];
    for (const url of urls) {
      const ok = await fetch(url, {
        method: "OPTIONS",
        headers: { Origin: TEST_ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET" },
      });
      expect(ok.status).toBe(204);
      expect(ok.headers.get("access-control-allow-origin")).toBe(TEST_ALLOWED_ORIGIN);
      expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
      expect(ok.headers.get("access-control-allow-headers")).toContain("Last-Event-ID");
      const denied = await fetch(url, {
        method: "OPTIONS",
        headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "GET" },
      });
      expect(denied.status).toBe(403);
      expect((await errorOf(denied)).code).toBe("origin_not_allowed");
    }
  });

  test("lets an allowed origin read streams and publish, with credentials", async () => {
    for (const server of STREAM_SERVERS) {
      const s = await openStream(`${server.url()}/stream?channel=${uniqueChannel()}`, {
        Origin: TEST_ALLOWED_ORIGIN,
      });
      expect(s.response.headers.get("access-control-allow-origin")).toBe(TEST_ALLOWED_ORIGIN);
      expect(s.response.headers.get("access-control-allow-credentials")).toBe("true");
      expect(s.response.headers.get("vary")).toContain("Origin");
      s.close();
      const other = await openStream(`${server.url()}/stream?channel=${uniqueChannel()}`, {
        Origin: "http://evil.example",
      });
      expect(other.response.headers.get("access-control-allow-origin")).toBeNull();
      other.close();
    }
    const published = await publishViaApi(
      { channel: uniqueChannel(), data: 1 },
      { headers: { Origin: TEST_ALLOWED_ORIGIN } },
    );
    expect(published.headers.get("access-control-allow-origin")).toBe(TEST_ALLOWED_ORIGIN);
  });
});

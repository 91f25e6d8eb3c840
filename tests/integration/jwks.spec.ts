import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { mintTestToken, uniqueChannel } from "../support/env";
import { providerKey } from "../support/jwks";
import { startAppServer, type TestServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// Tokens from an identity provider: the test is the provider (a JWKS endpoint over real HTTP,
// keys it rotates), `npm start` the relying party.
test.describe.configure({ mode: "serial" });

let jwks: Server;
// `npm start` with the fast path on and off: token checks on both of its paths.
let apps: TestServer[] = [];
const keys: { current: object[] } = { current: [] };

test.beforeAll(async () => {
  jwks = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ keys: keys.current }));
  });
  jwks.listen(0, "127.0.0.1");
  await once(jwks, "listening");
  const port = (jwks.address() as AddressInfo).port;
  const settings = {
    SSE_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    SSE_JWKS_COOLDOWN_MS: "0",
    SSE_JWKS_TIMEOUT_MS: "1000",
    SSE_JWT_ISSUER: "https://id.example",
  };
  apps = await Promise.all([
    startAppServer(settings),
    startAppServer({ ...settings, SSE_FAST_PATH: "off" }),
  ]);
});
test.afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  jwks?.close();
});

const open = (app: TestServer, channel: string, token: string) =>
  fetch(`${app.url}/stream?channel=${channel}`, { headers: { Authorization: `Bearer ${token}` } });

test("a provider-signed token opens a private stream; rotated keys are fetched; others are refused by code", async () => {
  for (const app of apps) await providerTokens(app);
});

async function providerTokens(app: TestServer): Promise<void> {
  const channel = uniqueChannel("private-idp");
  const first = await providerKey("k1");
  keys.current = [first.jwk];
  const claims = { channels: [channel], sub: "u1", iss: "https://id.example" };
  const stream = await openStream(`${app.url}/stream?channel=${channel}`, {
    Authorization: `Bearer ${await first.sign(claims)}`,
  });
  expect(stream.response.status).toBe(200);
  stream.close();
  // The provider rotates its key: a token with the new kid makes the server fetch again.
  const second = await providerKey("k2");
  keys.current = [second.jwk];
  const rotated = await open(app, channel, await second.sign(claims));
  expect(rotated.status).toBe(200);
  await rotated.body?.cancel();
  const cases: Array<[string, Promise<string> | string, number]> = [
    ["token_unknown_key", (await providerKey("k9")).sign(claims), 401],
    ["token_issuer", second.sign({ ...claims, iss: "https://evil.example" }), 401],
    // A secret-signed token is not accepted where the keys come from a provider.
    ["token_algorithm", mintTestToken([channel], 60), 401],
    ["channel_forbidden", second.sign({ ...claims, channels: ["private-other"] }), 403],
  ];
  for (const [code, token, status] of cases) {
    const response = await open(app, channel, await token);
    expect(response.status).toBe(status);
    expect((await response.json()).error.code).toBe(code);
  }
}

test("an identity provider that cannot be reached answers 503, not 401", async () => {
  const channel = uniqueChannel("private-idp");
  jwks.close();
  jwks.closeAllConnections();
  const stranger = await providerKey("k-new");
  for (const app of apps) {
    const response = await open(
      app,
      channel,
      await stranger.sign({ channels: [channel], iss: "https://id.example" }),
    );
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("jwks_unavailable");
  }
});

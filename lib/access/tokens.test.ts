import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  grantCovers,
  mintChannelToken,
  type TokenErrorCode,
  verifyChannelToken,
} from "@/lib/access/tokens";
import { resetSingletons } from "@/lib/ops/singleton";
import { providerKey } from "@/tests/support/jwks";

const SECRET = "a-test-secret-of-at-least-32-characters!";
const PREVIOUS = "the-previous-secret-of-32-characters-too";
const SETTINGS = [
  "SSE_SECRET",
  "SSE_SECRET_PREVIOUS",
  "SSE_JWKS_URL",
  "SSE_JWKS_COOLDOWN_MS",
  "SSE_JWKS_TIMEOUT_MS",
  "SSE_JWT_PUBLIC_KEY",
  "SSE_JWT_ISSUER",
  "SSE_JWT_AUDIENCE",
];

function configure(settings: Record<string, string>): void {
  for (const name of SETTINGS) delete process.env[name];
  Object.assign(process.env, { SSE_SECRET: SECRET, ...settings });
  resetSingletons("config", "token-keys", "token-secret");
}

beforeEach(() => configure({}));
afterEach(() => {
  vi.useRealTimers();
  configure({});
  delete process.env.SSE_SECRET;
});

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT signed with `secret`, with exactly these claims. */
function hs256(claims: JWTPayload, secret = SECRET, header: object = { alg: "HS256" }): string {
  const body = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(
    JSON.stringify(claims),
  ).toString("base64url")}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

async function refusal(token: string): Promise<TokenErrorCode> {
  try {
    await verifyChannelToken(token);
  } catch (error) {
    return (error as { code: TokenErrorCode }).code;
  }
  throw new Error("expected a refusal");
}

describe("channel tokens (JWT)", () => {
  it("mints an HS256 JWT that verifies, with its channels, prefixes and subject", async () => {
    const token = mintChannelToken(["private-a"], {
      ttlSeconds: 60,
      prefixes: ["private-team-"],
      subject: "user-42",
    });
    expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).toEqual({
      alg: "HS256",
      typ: "JWT",
    });
    const grant = await verifyChannelToken(token);
    expect(grant.sub).toBe("user-42");
    expect(grant.publish).toEqual([]);
    const publisher = await verifyChannelToken(mintChannelToken(["room"], { publish: ["room"] }));
    expect(publisher.publish).toEqual(["room"]);
    expect(await refusal(hs256({ channels: ["a"], exp: now() + 60, publish: "a" }))).toBe(
      "token_claims",
    );
    expect(grantCovers(grant, "private-a")).toBe(true);
    expect(grantCovers(grant, "private-team-7")).toBe(true);
    expect(grantCovers(grant, "private-b")).toBe(false);
  });

  it("never turns a channel name into a prefix grant", () => {
    expect(() => mintChannelToken(["private-user-*"], 60)).toThrow(/invalid channel/);
    expect(() => mintChannelToken(["a b"])).toThrow(/invalid channel/);
    expect(() => mintChannelToken([], { prefixes: ["bad prefix"] })).toThrow(/invalid channel/);
  });

  it("names every defect of a token with its own code", async () => {
    const exp = now() + 60;
    const channels = ["private-a"];
    expect(await refusal("")).toBe("token_malformed");
    expect(await refusal("not a token")).toBe("token_malformed");
    expect(await refusal("a.b.c")).toBe("token_malformed");
    // The format before JWTs: payload.signature.
    expect(await refusal("eyJjaGFubmVscyI6W119.c2ln")).toBe("token_legacy");
    expect(await refusal(hs256({ channels, exp }, PREVIOUS))).toBe("token_bad_signature");
    const unsigned = hs256({ channels, exp }, SECRET, { alg: "none" }).split(".");
    expect(await refusal(`${unsigned[0]}.${unsigned[1]}.`)).toBe("token_algorithm");
    expect(await refusal(hs256({ channels, exp }, SECRET, { alg: "HS512" }))).toBe(
      "token_algorithm",
    );
    expect(await refusal(hs256({ channels, exp: now() - 60 }))).toBe("token_expired");
    expect(await refusal(hs256({ channels, exp, nbf: now() + 60 }))).toBe("token_not_yet_valid");
    expect(await refusal(hs256({ channels }))).toBe("token_claims");
    expect(await refusal(hs256({ exp }))).toBe("token_claims");
    expect(await refusal(hs256({ channels: "private-a", exp }))).toBe("token_claims");
    expect(await refusal(hs256({ channels: [1], exp }))).toBe("token_claims");
    // `presence`: what members see of the holder, an object of at most 1 KiB.
    for (const presence of [["Ann"], "Ann", null, { bio: "x".repeat(1100) }]) {
      expect(await refusal(hs256({ channels, exp, presence }))).toBe("token_claims");
    }
  });

  it("carries the presence claim that members see", async () => {
    const token = mintChannelToken(["private-room"], {
      subject: "ann",
      presence: { name: "Ann" },
    });
    const grant = await verifyChannelToken(token);
    expect(grant.sub).toBe("ann");
    expect(grant.presence).toEqual({ name: "Ann" });
    expect((await verifyChannelToken(mintChannelToken(["private-room"]))).presence).toBeUndefined();
  });

  it("allows a few seconds of clock skew on exp and nbf", async () => {
    const channels = ["private-a"];
    await expect(verifyChannelToken(hs256({ channels, exp: now() - 2 }))).resolves.toBeTruthy();
    await expect(
      verifyChannelToken(hs256({ channels, exp: now() + 60, nbf: now() + 2 })),
    ).resolves.toBeTruthy();
  });

  it("checks issuer and audience when they are set", async () => {
    configure({ SSE_JWT_ISSUER: "https://id.example", SSE_JWT_AUDIENCE: "next-sse" });
    const claims = { channels: ["private-a"], exp: now() + 60 };
    const ok = { ...claims, iss: "https://id.example", aud: "next-sse" };
    await expect(verifyChannelToken(hs256(ok))).resolves.toBeTruthy();
    expect(await refusal(hs256({ ...ok, iss: "https://evil.example" }))).toBe("token_issuer");
    expect(await refusal(hs256({ ...ok, aud: "another-app" }))).toBe("token_audience");
    expect(await refusal(hs256(claims))).toBe("token_issuer");
    // What mintChannelToken issues carries both.
    await expect(verifyChannelToken(mintChannelToken(["private-a"]))).resolves.toBeTruthy();
  });

  it("accepts the previous secret while keys rotate, and only then", async () => {
    const old = hs256({ channels: ["private-a"], exp: now() + 60 }, PREVIOUS);
    expect(await refusal(old)).toBe("token_bad_signature");
    configure({ SSE_SECRET_PREVIOUS: PREVIOUS });
    await expect(verifyChannelToken(old)).resolves.toMatchObject({ channels: ["private-a"] });
    await expect(verifyChannelToken(mintChannelToken(["private-a"]))).resolves.toBeTruthy();
  });

  it("with a public key: accepts what its private key signed; an HS256 token signed with the public key's bytes is refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const pem = await exportSPKI(publicKey);
    configure({ SSE_JWT_PUBLIC_KEY: pem });
    const claims = { channels: ["private-a"], sub: "user-1" };
    const signed = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256" })
      .setExpirationTime("1m")
      .sign(privateKey);
    await expect(verifyChannelToken(signed)).resolves.toMatchObject({ sub: "user-1" });
    const confused = hs256({ ...claims, exp: now() + 60 }, pem);
    expect(await refusal(confused)).toBe("token_algorithm");
    // The secret no longer signs tokens here.
    expect(await refusal(mintChannelToken(["private-a"]))).toBe("token_algorithm");
  });
});

describe("channel tokens from an identity provider's JWKS", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  /** A JWKS endpoint serving whatever `keys` holds at the time of each request. */
  async function serveJwks(keys: {
    current: object[];
  }): Promise<{ url: string; hits: () => number }> {
    let hits = 0;
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ keys: keys.current }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      hits: () => hits,
    };
  }

  it("verifies with the provider's keys and follows a key rotation (unknown kid: fetch again)", async () => {
    const first = await providerKey("k1");
    const second = await providerKey("k2");
    const keys = { current: [first.jwk] as object[] };
    const jwks = await serveJwks(keys);
    configure({ SSE_JWKS_URL: jwks.url, SSE_JWKS_COOLDOWN_MS: "0" });
    const claims = { channels: ["private-a"], sub: "u1" };
    await expect(verifyChannelToken(await first.sign(claims))).resolves.toMatchObject({
      sub: "u1",
    });
    // The provider rotates: a token with the new kid makes the server fetch the keys again.
    keys.current = [second.jwk];
    await expect(verifyChannelToken(await second.sign(claims))).resolves.toMatchObject({
      sub: "u1",
    });
    expect(jwks.hits()).toBe(2);
    const stranger = await providerKey("k3");
    expect(await refusal(await stranger.sign(claims))).toBe("token_unknown_key");
  });

  it("an unreachable JWKS is the provider's outage (jwks_unavailable, 503), not a bad token", async () => {
    const signer = await providerKey("k1");
    configure({ SSE_JWKS_URL: "http://127.0.0.1:1/jwks.json", SSE_JWKS_TIMEOUT_MS: "500" });
    expect(await refusal(await signer.sign({ channels: ["private-a"] }))).toBe("jwks_unavailable");
  });
});

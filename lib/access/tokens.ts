import "server-only";
import { createHmac, createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { getConfig } from "@/lib/config";
import { singleton } from "@/lib/ops/singleton";
import { assertChannel } from "@/lib/sse/channel";

/**
 * Channel tokens are JWTs: HS256 with SSE_SECRET by default (`mintChannelToken` issues
 * them, and any service that knows the secret can), or asymmetric keys from an identity
 * provider (SSE_JWKS_URL, or SSE_JWT_PUBLIC_KEY). Verified with `jose`.
 *
 * Claims: `exp` (required), `nbf` (honoured), `sub` (who holds the stream), `channels`
 * (exact names, or `prefix*`), optional `iss`/`aud` (checked when SSE_JWT_ISSUER /
 * SSE_JWT_AUDIENCE are set), `publish` (channels the holder may publish to), `presence` (a
 * JSON object of at most 1 KiB shown to a private channel's members: a name, an avatar).
 */

/** What a verified channel token grants, and to whom. */
export interface ChannelGrant {
  /** Channel names, or prefixes ending in `*` (`private-user-42-*`). */
  channels: string[];
  /** Expiry, in seconds since the epoch. */
  exp: number;
  /** Who holds it (`sub`), when the token says. */
  sub?: string;
  /** Channels (or `prefix*`) the holder may publish to through `POST /api/publish`. */
  publish: string[];
  /** What a private channel's members list shows of the holder (`presence` claim). */
  presence?: Record<string, unknown>;
  /** Every claim, for an app's own rules in `authorize`. */
  claims: JWTPayload;
}

/** Every way a token can be refused; each has its own `code` in the JSON error. */
export type TokenErrorCode =
  | "token_malformed"
  | "token_legacy"
  | "token_bad_signature"
  | "token_algorithm"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issuer"
  | "token_audience"
  | "token_claims"
  | "token_unknown_key"
  | "jwks_unavailable";

/** Why a token was not accepted (401, or 503 for `jwks_unavailable`). */
export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

/** Largest `presence` claim, as JSON (bytes): it travels with every members event. */
export const MAX_PRESENCE_BYTES = 1024;

/** Clock skew allowed on `exp` and `nbf` (s). */
export const CLOCK_TOLERANCE_S = 5;
const HS256_HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString(
  "base64url",
);

/** SSE_SECRET, or one random key for this process (said once: single instance only). */
function getSecret(): Buffer {
  return singleton("token-secret", () => {
    const { secret } = getConfig();
    if (secret === undefined) {
      console.warn(
        "[next-sse] SSE_SECRET is not set: channel tokens use a random key of this process (they fail on other instances and after a restart)",
      );
    }
    return secret === undefined ? randomBytes(32) : Buffer.from(secret);
  });
}

/** Options of `mintChannelToken`. */
export interface MintOptions {
  /** Lifetime in seconds (default SSE_TOKEN_TTL_SECONDS, 3600). */
  ttlSeconds?: number;
  /**
   * Channel-name prefixes the token grants whole (`private-team-7-` grants every channel
   * starting with it). Only here: a name in `channels` is always one channel, even if a
   * user chose it, so `mintChannelToken([userInput])` can never grant a prefix.
   */
  prefixes?: string[];
  /** Who the token is for (`sub`). */
  subject?: string;
  /**
   * Channels the holder may also publish to through `POST /api/publish`, with this token
   * as its bearer (a chat from the browser, without the service's publish token).
   */
  publish?: string[];
  /** What the channel's members list shows of the holder (`presence`): a name, an avatar. */
  presence?: Record<string, unknown>;
}

/**
 * Mints an HS256 JWT for the given channels, signed with SSE_SECRET (with SSE_JWT_ISSUER
 * and SSE_JWT_AUDIENCE as `iss`/`aud` when set). Pages send it as `Authorization: Bearer`
 * (the stream client's `getToken`), the `sse_token` cookie, or `?token=`.
 * @param options lifetime in seconds, or `{ ttlSeconds, prefixes, subject, publish }`.
 * @throws SseInputError for a channel or prefix that is not a valid channel name.
 */
export function mintChannelToken(channels: string[], options: number | MintOptions = {}): string {
  const {
    ttlSeconds,
    prefixes = [],
    subject,
    publish = [],
    presence,
  } = typeof options === "number" ? { ttlSeconds: options } : options;
  const config = getConfig();
  for (const channel of [...channels, ...prefixes, ...publish]) {
    assertChannel(channel, config.maxChannelLength);
  }
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload & { channels: string[] } = {
    channels: [...channels, ...prefixes.map((prefix) => `${prefix}*`)],
    iat: now,
    exp: now + (ttlSeconds ?? config.tokenTtlSeconds),
    ...(subject === undefined ? {} : { sub: subject }),
    ...(publish.length === 0 ? {} : { publish }),
    ...(presence === undefined ? {} : { presence }),
    ...(config.jwtIssuer === undefined ? {} : { iss: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { aud: config.jwtAudience }),
  };
  const body = `${HS256_HEADER}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${body}.${createHmac("sha256", getSecret()).update(body).digest("base64url")}`;
}

type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey;

/** The keys tokens may be signed with, in the order they are tried. */
function verificationKeys(): { keys: VerifyKey[]; algorithms: string[] } {
  return singleton("token-keys", () => {
    const config = getConfig();
    if (config.jwksUrl !== undefined) {
      const jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
        cooldownDuration: config.jwksCooldownMs,
        timeoutDuration: config.jwksTimeoutMs,
      });
      return { keys: [jwks], algorithms: ["RS256", "ES256", "EdDSA"] };
    }
    if (config.jwtPublicKey !== undefined) {
      return {
        keys: [createPublicKey(config.jwtPublicKey)],
        algorithms: ["RS256", "ES256", "EdDSA"],
      };
    }
    const secrets = [getSecret()];
    if (config.previousSecret !== undefined) secrets.push(Buffer.from(config.previousSecret));
    return { keys: secrets.map((secret) => new Uint8Array(secret)), algorithms: ["HS256"] };
  });
}

/**
 * Verifies a channel token: signature (SSE_SECRET, then SSE_SECRET_PREVIOUS; or the
 * identity provider's keys), algorithm, `exp` (required), `nbf`, issuer and audience when
 * configured, and a `channels` claim that is a list of names.
 * @throws TokenError naming the defect.
 */
export async function verifyChannelToken(token: string): Promise<ChannelGrant> {
  const parts = token.split(".");
  if (parts.length === 2) {
    throw new TokenError(
      "token_legacy",
      "channel tokens are JWTs now: this token has the old format; mint a new one",
    );
  }
  if (parts.length !== 3 || parts.some((part) => !/^[\w-]*$/.test(part))) {
    throw new TokenError("token_malformed", "the channel token is not a JWT");
  }
  const config = getConfig();
  const { keys, algorithms } = verificationKeys();
  let payload: JWTPayload | undefined;
  let failure: unknown;
  for (const key of keys) {
    try {
      const options = {
        algorithms,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ["exp"],
      };
      ({ payload } =
        typeof key === "function"
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options));
      break;
    } catch (error) {
      failure = error;
      // Another key can only help with a signature that did not match this one.
      if ((error as { code?: string }).code !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") break;
    }
  }
  if (payload === undefined) throw toTokenError(failure);
  const channels = payload.channels;
  if (
    !Array.isArray(channels) ||
    !channels.every((channel) => typeof channel === "string" && channel.length > 0)
  ) {
    throw new TokenError("token_claims", "the channel token has no valid channels claim");
  }
  const publish = payload.publish ?? [];
  if (!Array.isArray(publish) || !publish.every((c) => typeof c === "string" && c.length > 0)) {
    throw new TokenError(
      "token_claims",
      "the channel token's publish claim is not a list of names",
    );
  }
  const presence = payload.presence;
  if (
    presence !== undefined &&
    (presence === null ||
      typeof presence !== "object" ||
      Array.isArray(presence) ||
      Buffer.byteLength(JSON.stringify(presence)) > MAX_PRESENCE_BYTES)
  ) {
    throw new TokenError(
      "token_claims",
      `the channel token's presence claim is not an object of at most ${MAX_PRESENCE_BYTES} bytes`,
    );
  }
  return {
    channels,
    publish,
    ...(presence === undefined ? {} : { presence: presence as Record<string, unknown> }),
    exp: payload.exp as number,
    sub: typeof payload.sub === "string" ? payload.sub : undefined,
    claims: payload,
  };
}

/** jose's error, as the defect a client can act on. Internals stay out of the message. */
function toTokenError(error: unknown): TokenError {
  const { code, claim } = (error ?? {}) as { code?: string; claim?: string };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new TokenError("token_expired", "the channel token has expired");
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new TokenError("token_bad_signature", "the channel token's signature does not match");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return new TokenError(
        "token_algorithm",
        "the channel token's algorithm is not accepted here",
      );
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return new TokenError(
        "token_unknown_key",
        "no key of the identity provider matches the token",
      );
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return new TokenError("jwks_unavailable", "the identity provider's keys cannot be read now");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "nbf") {
        return new TokenError("token_not_yet_valid", "the channel token is not valid yet");
      }
      if (claim === "iss")
        return new TokenError("token_issuer", "the token's issuer is not accepted");
      if (claim === "aud")
        return new TokenError("token_audience", "the token's audience is not this server");
      return new TokenError("token_claims", "the channel token's claims are not valid");
    default:
      // A JWKS that cannot be fetched surfaces as a fetch error, not a JOSE one.
      if (
        code === undefined &&
        error instanceof Error &&
        /fetch|network|ECONN/i.test(error.message)
      ) {
        return new TokenError(
          "jwks_unavailable",
          "the identity provider's keys cannot be read now",
        );
      }
      return new TokenError("token_malformed", "the channel token is not a valid JWT");
  }
}

/** Whether a grant covers a channel: an exact name, or a prefix pattern ending in `*`. */
export function grantCovers(grant: Pick<ChannelGrant, "channels">, channel: string): boolean {
  return grant.channels.some((pattern) =>
    pattern.endsWith("*") ? channel.startsWith(pattern.slice(0, -1)) : pattern === channel,
  );
}

import "server-only";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { getConfig } from "@/lib/server/config";
import { singleton } from "@/lib/server/singleton";
import { assertChannel } from "@/lib/sse/channel";

/** What a channel token grants. */
export interface ChannelGrant {
  /** Channel names, or prefixes ending in `*` (`private-user-42-*`). */
  channels: string[];
  /** Expiry, in seconds since the epoch. */
  exp: number;
}

/** Why a token was not accepted: `invalid` (401) or `expired` (403). */
export class TokenError extends Error {
  constructor(
    readonly reason: "invalid" | "expired",
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

/** SSE_SECRET, or one random key for this process (logged once: single instance only). */
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

function sign(payload: string): string {
  return createHmac("sha256", getSecret()).update(payload).digest("base64url");
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
}

/**
 * Mints a token for the given channels, signed with SSE_SECRET (HMAC-SHA256). Browsers pass
 * it as `?token=` or the `sse_token` cookie, since EventSource cannot send headers.
 * @param options lifetime in seconds, or `{ ttlSeconds, prefixes }`.
 * @throws SseInputError for a channel or prefix that is not a valid channel name.
 */
export function mintChannelToken(channels: string[], options: number | MintOptions = {}): string {
  const { ttlSeconds, prefixes = [] } =
    typeof options === "number" ? { ttlSeconds: options } : options;
  const { maxChannelLength } = getConfig();
  for (const channel of [...channels, ...prefixes]) assertChannel(channel, maxChannelLength);
  const grant: ChannelGrant = {
    channels: [...channels, ...prefixes.map((prefix) => `${prefix}*`)],
    exp: Math.floor(Date.now() / 1000) + (ttlSeconds ?? getConfig().tokenTtlSeconds),
  };
  const payload = Buffer.from(JSON.stringify(grant)).toString("base64url");
  return `${payload}.${sign(payload)}`;
}

/**
 * Checks a token's signature and expiry.
 * @throws TokenError `invalid` for a malformed or forged token, `expired` past its expiry.
 */
export function verifyChannelToken(token: string): ChannelGrant {
  const dot = token.indexOf(".");
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(sign(payload));
  if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError("invalid", "the channel token is not valid");
  }
  let grant: ChannelGrant;
  try {
    grant = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new TokenError("invalid", "the channel token is not valid");
  }
  if (!Array.isArray(grant.channels) || typeof grant.exp !== "number") {
    throw new TokenError("invalid", "the channel token is not valid");
  }
  if (grant.exp * 1000 <= Date.now()) {
    throw new TokenError("expired", "the channel token has expired");
  }
  return grant;
}

/** Whether a grant covers a channel: an exact name, or a prefix pattern ending in `*`. */
export function grantCovers(grant: ChannelGrant, channel: string): boolean {
  return grant.channels.some((pattern) =>
    pattern.endsWith("*") ? channel.startsWith(pattern.slice(0, -1)) : pattern === channel,
  );
}

import "server-only";
import { refuseRevoked } from "@/lib/access/revocation";
import { readSession } from "@/lib/access/sessions";
import {
  type ChannelGrant,
  CLOCK_TOLERANCE_S,
  grantCovers,
  type TokenError,
  verifyChannelToken,
} from "@/lib/access/tokens";
import { getCatalog } from "@/lib/catalog";
import { getConfig } from "@/lib/config";
import { HttpError, type RequestLike, retryAfter, sameSecret } from "@/lib/http";
import { assertChannel, parseChannels } from "@/lib/sse/channel";

/** The cookie a page can set instead of `?token=`. */
export const TOKEN_COOKIE = "sse_token";

/** What an authorize hook sees. */
export interface AuthorizeContext {
  /** Method, URL and headers (a web `Request` on route handlers). */
  request: RequestLike;
  channels: readonly string[];
  /** The token from `?token=` or the `sse_token` cookie, if any. */
  token: string | undefined;
}

const TOKEN_COOKIE_PATTERN = new RegExp(`(?:^|;\\s*)${TOKEN_COOKIE}=([^;]+)`);

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The channel token, in order of preference: `Authorization: Bearer` (fetch-based clients
 * and servers), the `sse_token` cookie, `?token=` (which proxies and access logs record).
 */
function readToken(request: RequestLike, query: URLSearchParams): string | undefined {
  const bearer = BEARER.exec(request.headers.get("authorization") ?? "");
  if (bearer !== null) return bearer[1];
  const cookie = request.headers.get("cookie");
  const match = cookie === null ? null : TOKEN_COOKIE_PATTERN.exec(cookie);
  if (match !== null) {
    try {
      return decodeURIComponent(match[1]);
    } catch {
      // A malformed escape is a bad token like any other (401), not a server error.
      return match[1];
    }
  }
  return query.get("token") || undefined;
}

/**
 * Whether a channel needs a token: as its declaration says (`private`, `lib/channels.ts`),
 * else when it starts with SSE_PRIVATE_PREFIX (`private-`).
 */
export function isPrivateChannel(channel: string): boolean {
  const declared = getCatalog().rulesOf(channel).private;
  if (declared !== undefined) return declared;
  const { privatePrefix } = getConfig();
  return privatePrefix !== "" && channel.startsWith(privatePrefix);
}

/**
 * The default policy: public channels are open to all; channels starting with
 * SSE_PRIVATE_PREFIX (`private-`) need a token that names them.
 * @throws HttpError 401 for a missing or bad token, 403 for an expired one or one for
 * other channels.
 */
export function requireChannelTokens({
  channels,
  token,
}: Pick<AuthorizeContext, "channels" | "token">): Access | Promise<Access> {
  const locked = channels.filter(isPrivateChannel);
  // Public channels: answered at once, no promise (this runs for every connection).
  if (locked.length === 0) return PUBLIC_ACCESS;
  return requireTokenFor(locked, token);
}

async function requireTokenFor(locked: string[], token: string | undefined): Promise<Access> {
  if (!token) {
    throw new HttpError(
      401,
      "token_required",
      `channel ${locked[0]} is private: pass a token (Authorization: Bearer, the ${TOKEN_COOKIE} cookie, or ?token=)`,
    );
  }
  const grant = await verifiedGrant(token);
  await refuseRevoked(grant);
  const denied = locked.find((channel) => !grantCovers(grant, channel));
  if (denied !== undefined) {
    throw new HttpError(403, "channel_forbidden", `the token does not grant channel ${denied}`);
  }
  // The stream ends when this token would be refused: at its expiry plus the clock
  // tolerance, so a reconnect with the same token is refused, not accepted and ended at once.
  return {
    expiresAt: (grant.exp + CLOCK_TOLERANCE_S) * 1000,
    sub: grant.sub,
    jti: typeof grant.claims.jti === "string" ? grant.claims.jti : undefined,
    presence: grant.presence,
    claims: grant.claims,
  };
}

/**
 * The default policy's answer for public channels: open to anyone, nothing to ask again
 * (the stream core re-authorizes only what an app rule or a session granted).
 */
export const PUBLIC_ACCESS: Access = Object.freeze({});

/** What access was granted: until when, when a token granted it. */
export interface Access {
  /** When the granting token expires (ms since the epoch): an open stream ends then. */
  expiresAt?: number;
  /** Who holds the stream (the token's `sub`), when a token said. */
  sub?: string;
  /** The token's id (`jti`), when it has one: one token can be revoked. */
  jti?: string;
  /** What a private channel's members list shows of the holder (the `presence` claim). */
  presence?: Record<string, unknown>;
  /** The token's claims, for an app's own rules (e.g. `user-<sub>` channels). */
  claims?: Record<string, unknown>;
}

/**
 * Access control for streams, in one place (Flask-SSE's `@sse.before_request`, built in).
 * Throw an HttpError to deny; return to allow, with `expiresAt` when access ends (a stream
 * then ends at that time with a reason, so the page refreshes its token and resumes).
 * Access without `expiresAt` (a cookie, a session) is asked again every
 * SSE_REAUTHORIZE_SECONDS, and the stream ends with `end` `{"reason":"unauthorized"}` when
 * this refuses. Replace or extend the rules here; it may return a promise (an async check);
 * the default answers public channels at once, without one, because it runs for every
 * connection.
 */
export function authorize(
  request: RequestLike,
  channels: readonly string[],
  query = new URL(request.url).searchParams,
): Access | Promise<Access> {
  const context: AuthorizeContext = { request, channels, token: readToken(request, query) };
  const own = channels.filter((channel) => channel.startsWith(USER_CHANNEL_PREFIX));
  if (own.length === 0) return requireChannelTokens(context);
  return requireOwnSession(request, own, requireChannelTokens(context));
}

/** Channels of one signed-in user: `user-<sub>` (the sign-in recipe, `sessions.ts`). */
export const USER_CHANNEL_PREFIX = "user-";

/**
 * An app rule (the sign-in recipe): `user-<sub>` channels are open to that signed-in user
 * only, by the session cookie. No token's `exp` bounds it: it is asked again on a cadence.
 * @throws HttpError 401 `login_required` without a session, 403 for another user's channel.
 */
async function requireOwnSession(
  request: RequestLike,
  own: string[],
  tokens: Access | Promise<Access>,
): Promise<Access> {
  const session = await readSession(request);
  if (session === undefined) {
    throw new HttpError(401, "login_required", `channel ${own[0]} needs a signed-in user`);
  }
  const denied = own.find((channel) => channel !== `${USER_CHANNEL_PREFIX}${session.sub}`);
  if (denied !== undefined) {
    throw new HttpError(403, "channel_forbidden", `channel ${denied} is another user's`);
  }
  const granted = await tokens;
  return { ...granted, sub: granted.sub ?? session.sub, expiresAt: undefined };
}

/**
 * The channels a stream request asks for (`?channel=`, default `sse`), checked against the
 * channel rules and limits, then authorized.
 * @throws SseInputError for an invalid or excess channel (400).
 * @throws HttpError 401/403 from `authorize`.
 */
export function authorizedStreamChannels(
  request: RequestLike,
  params = new URL(request.url).searchParams,
): { channels: string[]; access: Access | Promise<Access> } {
  const { maxChannelsPerStream, maxChannelLength } = getConfig();
  const channels = parseChannels(params, maxChannelsPerStream, maxChannelLength);
  return { channels, access: authorize(request, channels, params) };
}

/**
 * The channel of a `/api/channels/NAME/…` route, checked against the channel rules, then
 * authorized as its streams are (a private channel needs its token here too).
 * @throws SseInputError for an invalid channel (400).
 * @throws HttpError 401/403 from `authorize`.
 */
export async function authorizedChannelParam(
  request: Request,
  params: Promise<{ name: string }>,
): Promise<string> {
  const channel = assertChannel((await params).name, getConfig().maxChannelLength);
  await authorize(request, [channel]);
  return channel;
}

/**
 * A verified token's grant.
 * @throws HttpError 401 naming the token's defect, 503 when the identity provider's keys
 * cannot be read (not the token's fault: try again).
 */
async function verifiedGrant(token: string): Promise<ChannelGrant> {
  try {
    return await verifyChannelToken(token);
  } catch (error) {
    const { code, message } = error as Partial<TokenError>;
    if (code === "jwks_unavailable") {
      throw new HttpError(503, code, message ?? "token keys unavailable", {
        "Retry-After": retryAfter(5),
      });
    }
    throw new HttpError(
      401,
      code ?? "token_malformed",
      message ?? "the channel token is not valid",
    );
  }
}

/**
 * Who may publish through `POST /api/publish`: the service's SSE_PUBLISH_TOKEN (any
 * channel), or a channel token whose `publish` claim covers every channel of the request.
 * Returns the check for the request's channels.
 * @throws HttpError 404 when neither is possible (no SSE_PUBLISH_TOKEN and no channel
 * token), 401 without a bearer or for a bad channel token, 403 for a wrong service token.
 */
export async function authorizePublisher(
  request: RequestLike,
): Promise<(channels: readonly string[]) => void> {
  const { publishToken } = getConfig();
  const bearer = BEARER.exec(request.headers.get("authorization") ?? "")?.[1];
  const isJwt = bearer !== undefined && bearer.split(".").length === 3;
  if (publishToken === undefined && !isJwt) {
    throw new HttpError(
      404,
      "publish_api_disabled",
      "set SSE_PUBLISH_TOKEN to turn on the publish API (or send a channel token with a publish claim)",
    );
  }
  if (bearer === undefined) {
    throw new HttpError(401, "unauthorized", "send Authorization: Bearer <token>", {
      "WWW-Authenticate": 'Bearer realm="next-sse"',
    });
  }
  if (publishToken !== undefined && sameSecret(bearer, publishToken)) return () => {};
  if (!isJwt) throw new HttpError(403, "forbidden", "the bearer token is not valid");
  const grant = await verifiedGrant(bearer);
  await refuseRevoked(grant);
  return (channels) => {
    const denied = channels.find((channel) => !grantCovers({ channels: grant.publish }, channel));
    if (denied !== undefined) {
      throw new HttpError(
        403,
        "publish_forbidden",
        `the token does not allow publishing to ${denied}`,
      );
    }
  };
}

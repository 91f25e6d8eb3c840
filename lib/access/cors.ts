import "server-only";
import { getConfig } from "@/lib/config";
import { errorResponse, HttpError, type RequestLike } from "@/lib/http";

const ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID";

/**
 * How a request's origin may read: `listed` (named in SSE_CORS_ORIGINS: with credentials),
 * `any` (`*` is listed: a literal `*`, never with credentials, so no site can read what a
 * cookie opened), or undefined (same-origin, or not allowed).
 */
function originAccess(request: RequestLike): "listed" | "any" | undefined {
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  const { corsOrigins } = getConfig();
  if (corsOrigins.includes(origin)) return "listed";
  return corsOrigins.includes("*") ? "any" : undefined;
}

/**
 * CORS headers for a response: for an origin named in SSE_CORS_ORIGINS, that origin with
 * credentials, so cookies (the `sse_token` one included) travel; with `*` listed, any other
 * origin gets `*` without credentials. Empty for same-origin requests and origins not
 * allowed, which the browser then keeps from reading the response.
 */
export function corsHeaders(request: RequestLike): Record<string, string> {
  const access = originAccess(request);
  if (access === undefined) return {};
  if (access === "any") return { "Access-Control-Allow-Origin": "*" };
  return {
    "Access-Control-Allow-Origin": request.headers.get("origin") as string,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  };
}

/** Adds CORS headers to a response (it is returned, modified). */
export function withCors(request: RequestLike, response: Response): Response {
  for (const [name, value] of Object.entries(corsHeaders(request))) {
    response.headers.set(name, value);
  }
  return response;
}

/**
 * Answers a CORS preflight: 204 for an allowed origin.
 * @throws HttpError 403 for an origin not in SSE_CORS_ORIGINS.
 */
export function preflight(request: RequestLike, methods: string): Response {
  if (originAccess(request) === undefined) {
    throw new HttpError(
      403,
      "origin_not_allowed",
      `origin ${request.headers.get("origin") ?? "(none)"} is not in SSE_CORS_ORIGINS`,
    );
  }
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(request),
      "Access-Control-Allow-Methods": methods,
      "Access-Control-Allow-Headers": ALLOWED_HEADERS,
      "Access-Control-Max-Age": "600",
    },
  });
}

/** A route's OPTIONS handler: the preflight, or the JSON error for a refused origin. */
export function handlePreflight(request: RequestLike, methods: string): Response {
  try {
    return preflight(request, methods);
  } catch (error) {
    return errorResponse(error);
  }
}

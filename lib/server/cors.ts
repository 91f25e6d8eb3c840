import "server-only";
import { getConfig } from "@/lib/server/config";
import { errorResponse, HttpError } from "@/lib/server/http";

const ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID";

function allowedOrigin(request: Request): string | undefined {
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  const { corsOrigins } = getConfig();
  return corsOrigins.includes(origin) || corsOrigins.includes("*") ? origin : undefined;
}

/**
 * CORS headers for a response to an allowed origin (SSE_CORS_ORIGINS), with credentials,
 * so cookies (the `sse_token` one included) travel. Empty for same-origin requests and
 * origins not on the list, which the browser then keeps from reading the response.
 */
export function corsHeaders(request: Request): Record<string, string> {
  const origin = allowedOrigin(request);
  if (origin === undefined) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  };
}

/** Adds CORS headers to a response (it is returned, modified). */
export function withCors(request: Request, response: Response): Response {
  for (const [name, value] of Object.entries(corsHeaders(request))) {
    response.headers.set(name, value);
  }
  return response;
}

/**
 * Answers a CORS preflight: 204 for an allowed origin.
 * @throws HttpError 403 for an origin not in SSE_CORS_ORIGINS.
 */
export function preflight(request: Request, methods: string): Response {
  if (allowedOrigin(request) === undefined) {
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
export function handlePreflight(request: Request, methods: string): Response {
  try {
    return preflight(request, methods);
  } catch (error) {
    return errorResponse(error);
  }
}

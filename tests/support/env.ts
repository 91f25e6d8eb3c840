import { createHmac } from "node:crypto";

type TestVariable =
  | "APP_URL"
  | "DOWN_APP_URL"
  | "MEMORY_APP_URL"
  | "SHORT_APP_URL"
  | "NEXT_APP_URL"
  | "NODE_PATH_APP_URL"
  | "TEST_REDIS_URL"
  | "APP_PID";

/** The publish API token of the test servers (tests only: never a real secret). */
export const TEST_PUBLISH_TOKEN = "test-publish-token-0123456789";

/** The channel-token key of the main test server (tests only). */
export const TEST_SECRET = "test-secret-for-channel-tokens-0123456789";

/** The one origin the main test server allows cross-origin. */
export const TEST_ALLOWED_ORIGIN = "http://allowed.example";

/**
 * Mints a channel token the way lib/access/tokens.ts does (the documented format, so other
 * services can mint them too): base64url(JSON {channels, exp}) "." base64url(HMAC-SHA256).
 */
export function mintTestToken(
  channels: string[],
  expiresInSeconds: number,
  secret = TEST_SECRET,
  claims: Record<string, unknown> = {},
) {
  // An HS256 JWT written here, not by the app: any service that knows the secret can mint.
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({
    channels,
    exp: Math.floor(Date.now() / 1000) + expiresInSeconds,
    ...claims,
  })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** A URL or setting the Playwright global setup published for the tests. */
export function testEnv(name: TestVariable): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through playwright.config.ts`);
  return value;
}

/**
 * The ways the app is served, on the main test Redis with the same settings: `npm start`
 * (the production server: plain `/stream` requests read off the socket), the same with
 * SSE_FAST_PATH=off (every stream through Node's HTTP server) and `next start` (the route
 * handler). Stream tests run against each; events are published through the app.
 */
export const STREAM_SERVERS = [
  { name: "npm start", url: () => testEnv("APP_URL") },
  { name: "npm start, fast path off", url: () => testEnv("NODE_PATH_APP_URL") },
  { name: "next start", url: () => testEnv("NEXT_APP_URL") },
] as const;

let seq = 0;
/** A channel name no other test uses. */
export function uniqueChannel(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** Publishes through the app's `POST /api/publish`; returns the response. */
export function publishViaApi(
  body: unknown,
  options: { base?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    ...options.headers,
  };
  const token = options.token === undefined ? TEST_PUBLISH_TOKEN : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return fetch(`${options.base ?? testEnv("APP_URL")}/api/publish`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/**
 * Checks that a client which saw an event on instance `a` and reconnects to `b` with its
 * Last-Event-ID gets what was published meanwhile through either instance, once, in order.
 */
export async function expectResumeAcrossInstances(a: string, b: string): Promise<void> {
  const { openStream } = await import("./sse-client");
  const channel = uniqueChannel("move");
  const onA = await openStream(`${a}/stream?channel=${channel}`);
  await publishViaApi({ channel, data: "1" }, { base: a });
  await onA.waitForEvents(1);
  onA.close();
  await publishViaApi({ channel, data: "2" }, { base: b });
  await publishViaApi({ channel, data: "3" }, { base: a });
  const onB = await openStream(`${b}/stream?channel=${channel}`, {
    "Last-Event-ID": onA.lastEventId ?? "",
  });
  const events = await onB.waitForEvents(2);
  onB.close();
  if (events.map((e) => e.data).join() !== "2,3") {
    throw new Error(
      `expected 2,3 after resuming on the other instance, got ${events.map((e) => e.data).join()}`,
    );
  }
}

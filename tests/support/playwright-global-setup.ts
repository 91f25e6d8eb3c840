import { TEST_ALLOWED_ORIGIN, TEST_PUBLISH_TOKEN, TEST_SECRET } from "./env";
import { ensureBuilt, startAppServer, startNextServer } from "./next-server";
import { getFreePort } from "./ports";
import { startRedisServer } from "./redis-server";

/**
 * Starts what the integration and end-to-end tests talk to, all on free loopback ports:
 * a private redis-server (or TEST_REDIS_URL), and the app as `npm start` on that Redis,
 * with Redis down, on the in-memory broker, and with streams that end every second (so
 * browsers reconnect and resume), plus `next start` and `npm start` with the fast path off
 * beside the first with its settings.
 * Their URLs reach the tests as environment variables.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await ensureBuilt();
  const ownRedis = process.env.TEST_REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.TEST_REDIS_URL ?? ownRedis?.url ?? "";
  const deadPort = await getFreePort();
  const mainSettings = {
    SSE_REDIS_URL: redisUrl,
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_SECRET: TEST_SECRET,
    SSE_CORS_ORIGINS: TEST_ALLOWED_ORIGIN,
    // Every test client is 127.0.0.1: the demo's per-client limit would count them as one.
    SSE_DEMO_PUBLISH_PER_MINUTE: "100000",
  };
  const [app, down, memory, shortLived, nextApp, nodePath] = await Promise.all([
    startAppServer(mainSettings),
    startAppServer({
      SSE_REDIS_URL: `redis://127.0.0.1:${deadPort}`,
      SSE_REDIS_TIMEOUT_MS: "1000",
      SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    }),
    startAppServer({ SSE_MAX_CONNECTIONS: "4", SSE_DEMO_PUBLISH_PER_MINUTE: "100000" }),
    startAppServer({
      SSE_REDIS_URL: redisUrl,
      SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
      SSE_MAX_STREAM_SECONDS: "1",
    }),
    startNextServer(mainSettings),
    // `npm start` with SSE_FAST_PATH=off: every stream through Node's HTTP server.
    startAppServer({ ...mainSettings, SSE_FAST_PATH: "off" }),
  ]);
  process.env.TEST_REDIS_URL = redisUrl;
  process.env.APP_URL = app.url;
  process.env.APP_PID = String(app.pid);
  process.env.DOWN_APP_URL = down.url;
  process.env.MEMORY_APP_URL = memory.url;
  process.env.SHORT_APP_URL = shortLived.url;
  process.env.NEXT_APP_URL = nextApp.url;
  process.env.NODE_PATH_APP_URL = nodePath.url;
  return async () => {
    await Promise.all(
      [app, down, memory, shortLived, nextApp, nodePath].map((server) => server.stop()),
    );
    await ownRedis?.stop();
  };
}

import { expect, test } from "@playwright/test";
import { startAppServer, type TestServer } from "../support/next-server";
import { startRedisServer, type TestRedis } from "../support/redis-server";
import {
  askChat,
  deltaText,
  readUiStream,
  tokenNumbers,
  type UiChunk,
  upTo,
} from "../support/ui-stream";

// Resumable AI answers over HTTP, on instances sharing one Redis: the demo chat's routes
// (`lib/ai`) with the AI SDK's mock model, 200 numbered tokens 40 ms apart.
test.describe.configure({ mode: "serial" });

const TOKENS = 200;
let redis: TestRedis;
let a: TestServer;
let b: TestServer;

const tokensIn = (chunks: UiChunk[]) => tokenNumbers(deltaText(chunks));
const chatId = () => `chat-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

test.beforeAll(async () => {
  // Written to disk before it is acknowledged, so a restart keeps what was acknowledged.
  redis = await startRedisServer(["--appendonly", "yes", "--appendfsync", "always"]);
  const env = { SSE_REDIS_URL: redis.url, SSE_AI_MOCK_TOKEN_MS: "40" };
  [a, b] = await Promise.all([startAppServer(env), startAppServer(env)]);
});

test.afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

test("one instance runs the model, the other serves a viewer: every token once, in order", async () => {
  const id = chatId();
  // The asker leaves after 10 tokens (a reload): the answer goes on without it.
  const asked = await readUiStream(await askChat(a.url, id), (c) => tokensIn(c).length >= 10);
  expect(asked.done).toBe(false);
  const viewer = await readUiStream(await fetch(`${b.url}/api/chat/${id}/stream`));
  expect(viewer.done).toBe(true);
  expect(tokensIn(viewer.chunks)).toEqual(upTo(TOKENS));
  expect(viewer.chunks.at(-1)?.type).toBe("finish");
  // Over: no active answer, 204 as the AI SDK expects.
  expect((await fetch(`${a.url}/api/chat/${id}/stream`)).status).toBe(204);
});

test("stop on one instance ends the answer running on the other, for every viewer", async () => {
  const id = chatId();
  const asker = readUiStream(await askChat(a.url, id));
  const viewer = readUiStream(await fetch(`${b.url}/api/chat/${id}/stream`), (c) => {
    if (tokensIn(c).length === 20) void fetch(`${b.url}/api/chat/${id}/stop`, { method: "POST" });
    return false;
  });
  const [first, second] = await Promise.all([asker, viewer]);
  for (const view of [first, second]) {
    expect(view.done).toBe(true);
    expect(view.chunks.at(-1)?.type).toBe("abort");
    const numbers = tokensIn(view.chunks);
    expect(numbers).toEqual(upTo(numbers.length));
    expect(numbers.length).toBeLessThan(TOKENS);
  }
  expect(tokensIn(first.chunks)).toEqual(tokensIn(second.chunks));
});

test("an instance killed mid-answer: the other's viewers get `interrupted` within 10 s", async () => {
  const doomed = await startAppServer({ SSE_REDIS_URL: redis.url, SSE_AI_MOCK_TOKEN_MS: "40" });
  const id = chatId();
  await readUiStream(await askChat(doomed.url, id), (c) => tokensIn(c).length >= 5);
  let killedAt = 0;
  const viewer = await readUiStream(await fetch(`${b.url}/api/chat/${id}/stream`), (c) => {
    if (killedAt === 0 && tokensIn(c).length >= 20) {
      killedAt = Date.now();
      void doomed.stop("SIGKILL");
    }
    return false;
  });
  const after = Date.now() - killedAt;
  console.info(`[ai] interrupted reached the viewer ${after} ms after the SIGKILL`);
  expect(viewer.done).toBe(true);
  expect(viewer.chunks.at(-1)).toEqual({
    type: "error",
    errorText: "the instance running the answer stopped",
  });
  expect(after).toBeLessThan(10_000);
  const numbers = tokensIn(viewer.chunks);
  expect(numbers).toEqual(upTo(numbers.length));
});

test("Redis restarted mid-answer: nothing acknowledged is lost, nothing repeated", async () => {
  const id = chatId();
  const asker = readUiStream(await askChat(a.url, id));
  await readUiStream(
    await fetch(`${b.url}/api/chat/${id}/stream`),
    (c) => tokensIn(c).length >= 30,
  );
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await redis.restart();
  // The app reconnects within a moment: until then the GET says 503.
  let resumed = await fetch(`${b.url}/api/chat/${id}/stream`);
  for (let tries = 0; resumed.status === 503 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    resumed = await fetch(`${b.url}/api/chat/${id}/stream`);
  }
  expect(resumed.status).toBe(200);
  const whole = await readUiStream(resumed);
  for (const view of [await asker, whole]) {
    expect(view.done).toBe(true);
    expect(tokensIn(view.chunks)).toEqual(upTo(TOKENS));
    expect(view.chunks.at(-1)?.type).toBe("finish");
  }
});

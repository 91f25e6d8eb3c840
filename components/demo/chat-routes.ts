import "server-only";
import { convertToModelMessages, streamText, type UIMessage } from "ai";
import { demoModel } from "@/components/demo/chat-model";
import { requireDemo } from "@/components/demo/fences";
import { limitRate } from "@/lib/access/rate-limit";
import { getAnswers } from "@/lib/ai";
import { getConfig } from "@/lib/config";
import { HttpError, readJsonBody } from "@/lib/http";

/** Longest conversation the demo takes in one request, as JSON. */
const MAX_CHAT_BYTES = 64 * 1024;

/**
 * The demo chat's POST (`useChat` sends `{ id, messages }`): fenced like the demo's other
 * publishers (demo on, rate-limited), then an answer that outlives the request.
 */
export async function startDemoAnswer(request: Request): Promise<Response> {
  requireDemo();
  limitRate(request.headers, "demo-publish", getConfig().demoPublishPerMinute);
  const body = (await readJsonBody(request, MAX_CHAT_BYTES)) as {
    id?: unknown;
    messages?: unknown;
  };
  if (typeof body?.id !== "string" || !Array.isArray(body.messages) || body.messages.length === 0) {
    throw new HttpError(400, "invalid_chat", "a chat request is { id, messages: [...] }");
  }
  const messages = body.messages as UIMessage[];
  const modelMessages = await convertToModelMessages(messages).catch(() => {
    throw new HttpError(400, "invalid_messages", "messages are not UI messages of the AI SDK");
  });
  return getAnswers().start(body.id, (signal) =>
    streamText({
      model: demoModel(),
      messages: modelMessages,
      abortSignal: signal,
    }).toUIMessageStream({
      originalMessages: messages,
    }),
  );
}
